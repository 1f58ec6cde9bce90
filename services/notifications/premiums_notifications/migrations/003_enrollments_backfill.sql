-- Enrollments notifications saw before it kept an enrollments table: their member is in the notices already sent.
INSERT INTO enrollments (enrollment_id, member_id)
SELECT DISTINCT ON (facts ->> 'enrollment_id') facts ->> 'enrollment_id', member_id
FROM notifications
WHERE facts ? 'enrollment_id'
ORDER BY facts ->> 'enrollment_id', created_at
ON CONFLICT (enrollment_id) DO NOTHING;
