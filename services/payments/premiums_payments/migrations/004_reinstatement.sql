-- R2.10/D8: a terminated enrollment whose member asked for reinstatement takes payments again until pay_by.
ALTER TABLE enrollment_closures
    ADD COLUMN reinstatement_pay_by date,
    ADD COLUMN reinstatement_due    numeric(12, 2);
