DROP TABLE blobs;
DROP TABLE documents;
DROP TABLE numbering_books;
