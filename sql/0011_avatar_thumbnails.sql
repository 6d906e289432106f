-- Avatar thumbnails: a small square WebP made by the media consumer group from the
-- stored avatar, NULL until it is made (and again whenever the avatar is replaced).
ALTER TABLE users ADD COLUMN avatar_thumb_key text;
