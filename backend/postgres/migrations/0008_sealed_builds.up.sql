-- Builds never change once finished (beyond the seeds). An upload slot outlives FinishUpload:
-- it is OPEN until its build is attached (FINISHED) or it is refused or expires unfinished
-- (CLOSED), and it is deleted, with its upload object, only once it has expired. Upload URLs
-- only create, so while that object stays at its key the slot's URL refuses every PUT. The
-- build itself lives at a key of its own, which no upload URL is ever made for.
ALTER TABLE uploads
    ADD COLUMN status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'FINISHED', 'CLOSED'));
