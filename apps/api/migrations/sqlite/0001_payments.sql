CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL DEFAULT 'inserted' CHECK (status IN ('inserted', 'consumed')),
    data TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents BETWEEN 0 AND 9999999)
);
