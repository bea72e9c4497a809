"""The demo warehouse generator: schema, reproducibility, data rules and atomic writes."""

import datetime as dt

import duckdb
import numpy as np
import pytest
from scipy.stats import spearmanr

from pipe import demo
from pipe.demo import HISTORY_END, HISTORY_START, event_name_count, write_demo_warehouse

# Column names and types of the warehouse contract, plus the demo's own table.
EXPECTED_COLUMNS = {
    "sites": [("site_id", "BIGINT"), ("user_id", "BIGINT"), ("created_at", "TIMESTAMP"),
              ("lang", "VARCHAR"), ("country", "VARCHAR")],
    "users": [("user_id", "BIGINT"), ("created_at", "TIMESTAMP"), ("lang", "VARCHAR"), ("country", "VARCHAR")],
    "subscriptions": [("site_id", "BIGINT"), ("user_id", "BIGINT"), ("product", "VARCHAR"), ("is_paid", "BOOLEAN"),
                      ("started_at", "TIMESTAMP"), ("ended_at", "TIMESTAMP")],
    "events": [("site_id", "BIGINT"), ("user_id", "BIGINT"), ("event", "VARCHAR"), ("ts", "TIMESTAMP")],
    "traffic": [("site_id", "BIGINT"), ("day", "DATE"), ("views", "BIGINT"), ("visitors", "BIGINT")],
    "demo_truth": [("site_id", "BIGINT"), ("propensity", "DOUBLE")],
}
INTENT_EVENTS = ("plan_compare_view", "pricing_page_view", "domain_search", "upgrade_banner_click", "checkout_start")


@pytest.fixture(scope="module")
def con(demo_warehouse):
    connection = duckdb.connect(str(demo_warehouse), read_only=True)
    yield connection
    connection.close()


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def table_contents(path) -> dict[str, list[tuple]]:
    """Return every table's rows, sorted, so two files can be compared by value."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in EXPECTED_COLUMNS
        }


# --- Reproducibility ----------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_contents(tmp_path_factory):
    """Return the table contents of three 500-site warehouses in 200-site chunks: seeds 7, 7 and 8."""
    folder = tmp_path_factory.mktemp("seeds")
    contents = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "CHUNK_SITES", 200)
        for name, seed in [("a", 7), ("b", 7), ("c", 8)]:
            write_demo_warehouse(folder / f"{name}.duckdb", n_sites=500, seed=seed)
            contents.append(table_contents(folder / f"{name}.duckdb"))
    return contents


def test_same_seed_gives_identical_tables(seeded_contents):
    first, second, _ = seeded_contents
    for table in EXPECTED_COLUMNS:
        assert first[table] == second[table], table


def test_other_seed_gives_other_tables(seeded_contents):
    first, _, other = seeded_contents
    for table in ("sites", "subscriptions", "events", "traffic", "demo_truth"):
        assert first[table] != other[table], table


# --- Schema and counts --------------------------------------------------------


def test_schema_matches_contract(con):
    for table, expected in EXPECTED_COLUMNS.items():
        columns = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        assert columns == expected, table


def test_returned_counts_match_tables(tmp_path):
    counts = write_demo_warehouse(tmp_path / "demo.duckdb", n_sites=300, seed=2)

    assert set(counts) == set(EXPECTED_COLUMNS)
    with duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True) as connection:
        for table, count in counts.items():
            assert scalar(connection, f"SELECT count(*) FROM {table}") == count, table
    assert counts["sites"] == 300


def test_demo_truth_has_one_row_per_site(con):
    assert scalar(con, "SELECT count(*) FROM demo_truth") == 2000
    assert scalar(con, "SELECT count(DISTINCT site_id) FROM demo_truth") == 2000
    assert scalar(con, "SELECT count(*) FROM sites s ANTI JOIN demo_truth t USING (site_id)") == 0
    assert scalar(con, "SELECT min(propensity) FROM demo_truth") > 0
    assert scalar(con, "SELECT max(propensity) FROM demo_truth") < 1


def test_ids_are_unique(con):
    assert scalar(con, "SELECT count(DISTINCT site_id) FROM sites") == 2000
    assert scalar(con, "SELECT count(*) - count(DISTINCT user_id) FROM users") == 0
    assert scalar(con, "SELECT count(*) - count(DISTINCT (site_id, day)) FROM traffic") == 0


# --- Sites and users ----------------------------------------------------------


def test_users_own_one_to_three_sites(con):
    sizes = dict(con.execute(
        "SELECT n, count(*) FROM (SELECT user_id, count(*) AS n FROM sites GROUP BY user_id) GROUP BY n"
    ).fetchall())
    assert set(sizes) == {1, 2, 3}
    users = scalar(con, "SELECT count(*) FROM users")
    assert 0.7 * 2000 < users < 0.8 * 2000
    assert scalar(con, "SELECT count(*) FROM users ANTI JOIN sites USING (user_id)") == 0


def test_user_created_at_or_before_first_site(con):
    late = scalar(con, """
        SELECT count(*) FROM users u
        JOIN (SELECT user_id, min(created_at) AS first_site FROM sites GROUP BY user_id) s USING (user_id)
        WHERE u.created_at > s.first_site
    """)
    assert late == 0


def test_sites_created_within_history(con):
    first, last = con.execute("SELECT min(created_at), max(created_at) FROM sites").fetchone()
    assert first >= HISTORY_START
    assert last < HISTORY_END


def test_fewer_sites_created_on_weekends(con):
    weekday, weekend = con.execute("""
        SELECT avg(n) FILTER (WHERE isodow(d) <= 5), avg(n) FILTER (WHERE isodow(d) > 5)
        FROM (SELECT created_at::DATE AS d, count(*) AS n FROM sites GROUP BY d)
    """).fetchone()
    assert weekend < 0.85 * weekday


def test_more_sites_created_late_in_year(con):
    first_half = scalar(con, "SELECT count(*) FROM sites WHERE created_at < '2025-07-01'")
    assert first_half < 0.45 * 2000


def test_lang_and_country_are_skewed_with_nulls(con):
    top_lang, top_share = con.execute(
        "SELECT lang, count(*) / sum(count(*)) OVER () AS share FROM sites GROUP BY lang ORDER BY share DESC LIMIT 1"
    ).fetchone()
    assert top_lang == "en"
    assert 0.5 < top_share < 0.85
    assert scalar(con, "SELECT count(DISTINCT country) FROM sites") >= 30
    assert scalar(con, "SELECT count(*) FROM users WHERE country IS NULL OR lang IS NULL") > 0


# --- Subscriptions ------------------------------------------------------------

CHAINS = """
    SELECT *,
        lead(started_at) OVER w AS next_started_at,
        row_number() OVER w AS position,
        count(*) OVER (PARTITION BY site_id) AS rows_of_site
    FROM subscriptions
    WHERE is_paid
    WINDOW w AS (PARTITION BY site_id ORDER BY started_at)
"""


def test_renewal_starts_at_previous_end(con):
    # A later paid row either renews, starting exactly at the previous row's end,
    # or is a purchase after a lapse of at least a day. Nothing lies in between.
    exact, later, overlapping, near_miss = con.execute(f"""
        SELECT
            count(*) FILTER (WHERE next_started_at = ended_at),
            count(*) FILTER (WHERE next_started_at >= ended_at + INTERVAL 1 DAY),
            count(*) FILTER (WHERE next_started_at < ended_at),
            count(*) FILTER (WHERE next_started_at > ended_at AND next_started_at < ended_at + INTERVAL 1 DAY)
        FROM ({CHAINS})
        WHERE next_started_at IS NOT NULL
    """).fetchone()
    assert exact > 100
    assert later > 0
    assert overlapping == 0
    assert near_miss == 0


def test_open_row_is_last_of_chain(con):
    open_not_last = scalar(con, f"SELECT count(*) FROM ({CHAINS}) WHERE ended_at IS NULL AND position < rows_of_site")
    assert open_not_last == 0
    # A row that ends after the history would be open instead.
    assert scalar(con, f"SELECT count(*) FROM subscriptions WHERE ended_at >= TIMESTAMP '{HISTORY_END}'") == 0
    assert scalar(con, "SELECT count(*) FROM subscriptions WHERE ended_at IS NULL") > 0


def test_subscription_rows_are_consistent(con):
    assert scalar(con, "SELECT count(*) FROM subscriptions WHERE ended_at <= started_at") == 0
    wrong_owner = scalar(con, """
        SELECT count(*) FROM subscriptions p JOIN sites s USING (site_id)
        WHERE p.user_id <> s.user_id OR p.started_at < s.created_at
    """)
    assert wrong_owner == 0
    paid_products = {row[0] for row in con.execute("SELECT DISTINCT product FROM subscriptions WHERE is_paid").fetchall()}
    assert paid_products == {"personal", "premium", "business", "ecommerce"}
    assert scalar(con, "SELECT count(*) FROM subscriptions WHERE NOT is_paid AND product <> 'trial'") == 0
    assert scalar(con, "SELECT count(*) FROM subscriptions WHERE NOT is_paid") > 0


def test_paid_terms_are_month_or_year(con):
    # A yearly term cannot end within the one-year history, so every ended paid
    # row is a 30-day term, and an open row older than 30 days is a yearly one.
    ended_terms = {row[0] for row in con.execute(
        "SELECT DISTINCT ended_at - started_at FROM subscriptions WHERE is_paid AND ended_at IS NOT NULL"
    ).fetchall()}
    assert ended_terms == {dt.timedelta(days=30)}
    open_yearly = scalar(con, f"""
        SELECT count(*) FROM subscriptions
        WHERE is_paid AND ended_at IS NULL AND started_at < TIMESTAMP '{HISTORY_END}' - INTERVAL 30 DAY
    """)
    assert open_yearly > 0


def test_share_of_buyers_is_plausible(con):
    buyers = scalar(con, "SELECT count(DISTINCT site_id) FROM subscriptions WHERE is_paid")
    assert 0.2 * 2000 < buyers < 0.45 * 2000


# --- Events -------------------------------------------------------------------


def test_events_within_site_life_and_history(con):
    assert scalar(con, "SELECT count(*) FROM events e JOIN sites s USING (site_id) WHERE e.ts < s.created_at") == 0
    assert scalar(con, "SELECT count(*) FROM events e JOIN users u USING (user_id) WHERE e.ts < u.created_at") == 0
    assert scalar(con, f"SELECT count(*) FROM events WHERE ts >= TIMESTAMP '{HISTORY_END}'") == 0


def test_latest_event_on_last_history_day(con):
    latest = scalar(con, "SELECT max(ts) FROM events")
    assert latest.date() == dt.date(2025, 12, 31)


def test_events_per_site_about_one_hundred(con):
    per_site = scalar(con, "SELECT count(*) / 2000 FROM events")
    assert 70 < per_site < 140


def test_user_only_events_have_no_site(con):
    share = scalar(con, "SELECT avg((site_id IS NULL)::INT) FROM events")
    assert 0.03 < share < 0.07
    user_events = {row[0] for row in con.execute("SELECT DISTINCT event FROM events WHERE site_id IS NULL").fetchall()}
    assert "login" in user_events
    assert not user_events & {"post_publish", "checkout_complete", *INTENT_EVENTS}


def test_last_day_event_added_when_missing():
    population = demo._draw_population(np.random.default_rng(0), 100)
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE events (site_id BIGINT, user_id BIGINT, event VARCHAR, ts TIMESTAMP)")

        added = demo._ensure_last_day_has_event(connection, population, latest_event_us=demo._START_US)

        assert added == 1
        site_id, user_id, event, ts = connection.execute("SELECT * FROM events").fetchone()
    assert site_id is None
    assert user_id == len(population.user_created_us)
    assert event == "login"
    assert ts.date() == dt.date(2025, 12, 31)


def test_last_day_event_not_added_when_present():
    population = demo._draw_population(np.random.default_rng(0), 100)
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE events (site_id BIGINT, user_id BIGINT, event VARCHAR, ts TIMESTAMP)")

        added = demo._ensure_last_day_has_event(connection, population, latest_event_us=demo._END_US - 1000)

        assert added == 0
        assert scalar(connection, "SELECT count(*) FROM events") == 0


def test_event_name_count_meets_floor():
    assert event_name_count(100) == 1000
    assert event_name_count(20_000) == 1000
    assert 4800 < event_name_count(1_000_000) < 5200


def test_every_event_name_occurs(con, seeded_contents):
    assert scalar(con, "SELECT count(DISTINCT event) FROM events") == event_name_count(2000)
    # At 500 sites the rarest names would be missing without the coverage step.
    small_names = {row[2] for row in seeded_contents[0]["events"]}
    assert len(small_names) == event_name_count(500)


def test_event_names_are_heavy_tailed(con):
    counts = np.array([row[0] for row in con.execute(
        "SELECT count(*) AS n FROM events GROUP BY event ORDER BY n DESC"
    ).fetchall()])
    top_share = counts[: len(counts) // 100].sum() / counts.sum()
    bottom_half_share = counts[len(counts) // 2:].sum() / counts.sum()
    assert top_share > 0.3
    assert bottom_half_share < 0.1


def test_checkout_events_at_each_purchase(con):
    # Every paid row that is not a renewal is a purchase with a checkout_complete at its start.
    purchases_without_event = scalar(con, f"""
        SELECT count(*) FROM ({CHAINS}) p
        WHERE NOT EXISTS (
            SELECT 1 FROM subscriptions q
            WHERE q.site_id = p.site_id AND q.is_paid AND q.ended_at = p.started_at
        )
        AND NOT EXISTS (
            SELECT 1 FROM events e
            WHERE e.site_id = p.site_id AND e.event = 'checkout_complete' AND e.ts = p.started_at
        )
    """)
    assert purchases_without_event == 0
    starts_after_completion = scalar(con, """
        SELECT count(*) FROM events c
        WHERE c.event = 'checkout_complete' AND NOT EXISTS (
            SELECT 1 FROM events s
            WHERE s.site_id = c.site_id AND s.event = 'checkout_start'
              AND s.ts <= c.ts AND s.ts >= c.ts - INTERVAL 15 MINUTE
        )
    """)
    assert starts_after_completion == 0


def test_early_intent_events_track_propensity(con):
    rows = con.execute(f"""
        SELECT t.propensity, count(e.ts) AS intent_events
        FROM sites s
        JOIN demo_truth t USING (site_id)
        LEFT JOIN events e ON e.site_id = s.site_id
            AND e.ts < s.created_at + INTERVAL 30 DAY
            AND e.event IN {INTENT_EVENTS}
        WHERE s.created_at < '2025-12-01'
        GROUP BY s.site_id, t.propensity
    """).fetchall()
    propensity, intent_events = zip(*rows)
    assert spearmanr(propensity, intent_events).statistic > 0.4


def test_buyers_have_higher_propensity(con):
    buyers, others = con.execute("""
        SELECT
            median(t.propensity) FILTER (WHERE p.site_id IS NOT NULL),
            median(t.propensity) FILTER (WHERE p.site_id IS NULL)
        FROM demo_truth t
        LEFT JOIN (SELECT DISTINCT site_id FROM subscriptions WHERE is_paid) p USING (site_id)
    """).fetchone()
    assert buyers > 3 * others


# --- Traffic ------------------------------------------------------------------


def test_traffic_rows_match_event_days(con):
    traffic_only = scalar(con, """
        SELECT count(*) FROM (
            SELECT site_id, day FROM traffic
            EXCEPT SELECT site_id, ts::DATE FROM events WHERE site_id IS NOT NULL
        )
    """)
    events_only = scalar(con, """
        SELECT count(*) FROM (
            SELECT site_id, ts::DATE FROM events WHERE site_id IS NOT NULL
            EXCEPT SELECT site_id, day FROM traffic
        )
    """)
    assert traffic_only == 0
    assert events_only == 0


def test_visitors_at_most_views(con):
    assert scalar(con, "SELECT count(*) FROM traffic WHERE visitors > views OR visitors < 1") == 0
    median, p99 = con.execute("SELECT median(views), quantile_cont(views, 0.99) FROM traffic").fetchone()
    assert p99 > 10 * median


# --- Writing ------------------------------------------------------------------


def test_progress_reports_each_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_SITES", 200)
    reported = []

    write_demo_warehouse(tmp_path / "demo.duckdb", n_sites=500, seed=0, progress=reported.append)

    assert reported == [200, 400, 500]


@pytest.mark.parametrize("n_sites", [0, 99])
def test_too_few_sites_rejected(tmp_path, n_sites):
    with pytest.raises(ValueError, match="at least 100"):
        write_demo_warehouse(tmp_path / "demo.duckdb", n_sites=n_sites)
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_rejected(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        write_demo_warehouse(tmp_path / "missing" / "demo.duckdb", n_sites=100)


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_SITES", 200)
    original = demo._draw_traffic
    calls = []

    def fail_on_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("injected failure")
        return original(*args)

    monkeypatch.setattr(demo, "_draw_traffic", fail_on_second_chunk)

    with pytest.raises(RuntimeError, match="injected failure"):
        write_demo_warehouse(tmp_path / "demo.duckdb", n_sites=500)
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_existing_file(tmp_path, monkeypatch):
    target = tmp_path / "demo.duckdb"
    target.write_bytes(b"previous contents")

    def fail(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(demo, "_draw_events", fail)

    with pytest.raises(RuntimeError, match="injected failure"):
        write_demo_warehouse(target, n_sites=100)
    assert target.read_bytes() == b"previous contents"
    assert [path.name for path in tmp_path.iterdir()] == ["demo.duckdb"]


def test_success_replaces_existing_file(tmp_path):
    target = tmp_path / "demo.duckdb"
    target.write_bytes(b"previous contents")

    write_demo_warehouse(target, n_sites=100)

    with duckdb.connect(str(target), read_only=True) as connection:
        assert scalar(connection, "SELECT count(*) FROM sites") == 100
    assert [path.name for path in tmp_path.iterdir()] == ["demo.duckdb"]


@pytest.mark.parametrize("terminal, shows_bar", [(False, False), (True, True)], ids=["pipe", "terminal"])
def test_demo_progress_bar_only_on_terminal(run, tmp_path, monkeypatch, terminal, shows_bar):
    import pipe.cli.common

    monkeypatch.setattr(pipe.cli.common, "stderr_is_terminal", lambda: terminal)

    result = run("demo", "--sites", "100", "--out", str(tmp_path / "demo.duckdb"))

    assert result.exit_code == 0, result.output
    assert ("generating sites" in result.stderr) is shows_bar
    assert result.stdout.startswith(f"wrote {tmp_path / 'demo.duckdb'} in ")
