#!/usr/bin/python3
"""textbook.py - the drop-zone loader people write first, as the benchmark's Python peer.

Usage: textbook.py executemany|copy CSV        (connects with libpq's PG* environment variables)

Reads the orders CSV with csv.DictReader, validates each row with a pydantic model (the same
rules as bench/orders.yaml: types, amount > 0, the status enum, the email pattern), skips and
counts the rows that fail, and upserts the rest into orders_pk on order_id:
  executemany  psycopg's cursor.executemany(INSERT ... ON CONFLICT DO UPDATE) in batches of
               BATCH rows (psycopg 3 sends each batch in pipeline mode), one commit at the end;
  copy         cursor.copy() into a temporary staging table, then one INSERT ... SELECT ...
               ON CONFLICT DO UPDATE (the usual fix once executemany proves slow).
Prints {"rows_read": N, "valid": N, "invalid": N} on stdout. Deliberately plain: it is the
baseline, not a tuned loader. Debian's /usr/bin/python3 with python3-pydantic (1.10) and
python3-psycopg (3.1).
"""
import csv
import datetime
import decimal
import json
import sys
from typing import Literal

import psycopg
from pydantic import BaseModel, ValidationError, condecimal, constr

BATCH = 10000
EMAIL = r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$"
COLUMNS = "order_id, customer_email, amount, order_date, status"
UPSERT_SET = ("ON CONFLICT (order_id) DO UPDATE SET customer_email = EXCLUDED.customer_email, "
              "amount = EXCLUDED.amount, order_date = EXCLUDED.order_date, "
              "status = EXCLUDED.status")


class Order(BaseModel):
    order_id: int
    customer_email: constr(regex=EMAIL)
    amount: condecimal(gt=decimal.Decimal(0), max_digits=12, decimal_places=2)
    order_date: datetime.date
    status: Literal["pending", "paid", "shipped", "delivered", "cancelled", "refunded"]


def valid_rows(path, counts):
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            counts["rows_read"] += 1
            try:
                o = Order(**row)
            except ValidationError:
                counts["invalid"] += 1
                continue
            counts["valid"] += 1
            yield (o.order_id, o.customer_email, o.amount, o.order_date, o.status)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("executemany", "copy"):
        sys.exit(__doc__)
    mode, path = sys.argv[1], sys.argv[2]
    counts = {"rows_read": 0, "valid": 0, "invalid": 0}
    with psycopg.connect("") as conn, conn.cursor() as cur:
        if mode == "executemany":
            sql = "INSERT INTO orders_pk (%s) VALUES (%%s, %%s, %%s, %%s, %%s) %s" % (
                COLUMNS, UPSERT_SET)
            batch = []
            for t in valid_rows(path, counts):
                batch.append(t)
                if len(batch) == BATCH:
                    cur.executemany(sql, batch)
                    batch = []
            if batch:
                cur.executemany(sql, batch)
        else:
            cur.execute("CREATE TEMP TABLE stage (LIKE orders_pk) ON COMMIT DROP")
            with cur.copy("COPY stage (%s) FROM STDIN" % COLUMNS) as cp:
                for t in valid_rows(path, counts):
                    cp.write_row(t)
            cur.execute("INSERT INTO orders_pk SELECT * FROM stage %s" % UPSERT_SET)
        conn.commit()
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
