-- R3.3/R3.4: premiums change from an effective month; the bill of a month uses the premium in force then.
CREATE TABLE premium_changes (
    enrollment_id   text NOT NULL REFERENCES enrollments,
    effective_month text NOT NULL,
    monthly_premium numeric(12, 2) NOT NULL,
    aptc_amount     numeric(12, 2) NOT NULL,
    PRIMARY KEY (enrollment_id, effective_month)
);
