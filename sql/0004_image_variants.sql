-- Thumbnails made by the media consumer group: {"320": {"key", "width", "height"}, "1080": {…}}.
ALTER TABLE posts ADD COLUMN image_variants jsonb;
