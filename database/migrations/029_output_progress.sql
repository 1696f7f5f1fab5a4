-- A file transfer's progress (docs/live-output.md): the executor writes its bytes so far as lines of
-- their own stream, `progress` ("upload 23100000/45200000 bytes 6100 ms"), a few a second per target.
-- Only the executor writes it; a target's output is never read into it.
ALTER TABLE output_lines DROP CONSTRAINT output_lines_stream_check;
ALTER TABLE output_lines ADD CONSTRAINT output_lines_stream_check CHECK (stream IN ('stdout', 'stderr', 'progress'));
