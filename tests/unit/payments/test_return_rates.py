"""R5.12: return rates over the prior 60 days, by category, against Nacha's thresholds."""

from premiums_payments.domain.returns import RATE_THRESHOLDS, return_rates


def test_r5_12_rates_split_unauthorized_administrative_and_overall() -> None:
    rates = return_rates(1000, ["R01", "R01", "R10", "R02", "R03"])
    assert rates == {"unauthorized": 0.001, "administrative": 0.002, "overall": 0.005}


def test_r5_12_no_debits_means_no_rate() -> None:
    assert return_rates(0, []) == {"unauthorized": 0.0, "administrative": 0.0, "overall": 0.0}


def test_r5_12_thresholds_are_nachas() -> None:
    assert RATE_THRESHOLDS == {"unauthorized": 0.005, "administrative": 0.03, "overall": 0.15}
