-- Post images: the original's dimensions, known at upload; thumbnails come later.
ALTER TABLE posts ADD COLUMN image_width integer, ADD COLUMN image_height integer;
