-- Runs once, when compose's PostgreSQL volume is first initialised: the database the
-- integration suite uses (`task test:integration`), never the service's own.
CREATE DATABASE feed_test OWNER feed;
