-- The same for SQLite and PostgreSQL. Ids are chosen by the client (the form's ID field).
CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL
);
