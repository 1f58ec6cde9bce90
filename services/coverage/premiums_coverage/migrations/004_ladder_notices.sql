-- Issue 4: the delinquency notices sent, per ladder (first unpaid month), so a ladder resumes where it
-- stopped when a returned payment undoes a cure (D7) instead of starting over (R2.7, R2.8).
CREATE TABLE ladder_notices (
    enrollment_id text NOT NULL REFERENCES enrollments,
    ladder_month  text NOT NULL,
    level         integer NOT NULL CHECK (level BETWEEN 1 AND 3),
    notice        text NOT NULL,
    sent_on       date NOT NULL,
    pay_by        date NOT NULL,
    PRIMARY KEY (enrollment_id, ladder_month, level)
);

-- What the enrollments already knew: the latest notice of each open ladder.
INSERT INTO ladder_notices (enrollment_id, ladder_month, level, notice, sent_on, pay_by)
SELECT enrollment_id, ladder_month, notice_level,
       (ARRAY['past_due_warning', 'termination_warning_1', 'termination_warning_2'])[notice_level],
       coalesce(second_notice_on, updated_at::date), notice_pay_by
FROM enrollments
WHERE ladder_month IS NOT NULL AND notice_level BETWEEN 1 AND 3 AND notice_pay_by IS NOT NULL;
