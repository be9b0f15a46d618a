-- What a front-end needs of a user's image set besides its main object:
-- its variants (every size in every format), a BlurHash placeholder and the
-- average colour, as one JSON document. NULL for images stored before.

ALTER TABLE users ADD COLUMN image_meta TEXT;
