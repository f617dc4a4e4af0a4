"""Single-writer durable appends per second on a signed AuditLog, one store, in this process; for
comparing two source trees side by side (run each tree alternately in fresh processes):

    for t in src /path/to/other/src; do PYTHONPATH=$t python bench/audit_append_rate.py sqlite 400; done

``postgresql`` uses $SYNTHMARK_TEST_PG (a fresh schema, dropped afterwards).
"""
import hashlib, sys, tempfile, time, uuid, os
import synthmark as sm
url_kind, n = sys.argv[1], int(sys.argv[2])
key = sm.Key.from_bytes(b"k" * 32)
if url_kind == "sqlite":
    d = tempfile.mkdtemp(); url = f"sqlite:///{d}/a.db"
else:
    import psycopg
    base = os.environ["SYNTHMARK_TEST_PG"]; schema = "b_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base, autocommit=True) as c: c.execute(f"CREATE SCHEMA {schema}")
    url = base + f"?options=-csearch_path%3D{schema}"
log = sm.AuditLog(url, key=key)
evs = [sm.AuditEvent(user_ref="u", content_id=f"c{i}", media_type="video", output_sha256=hashlib.sha256(b"%d" % i).hexdigest()) for i in range(n)]
t = time.perf_counter()
for e in evs: log.append(e)
dt = time.perf_counter() - t
print(f"{n/dt:.0f}")
log.close()
if url_kind != "sqlite":
    with psycopg.connect(base, autocommit=True) as c: c.execute(f"DROP SCHEMA {schema} CASCADE")
