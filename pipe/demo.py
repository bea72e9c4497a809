"""Generate the demo warehouse: made-up sites, users, plans, events and traffic.

The data behave like a real product's so that every pipe command has something
to learn from. A hidden latent ``z ~ N(0, 1)`` per site raises both its activity
and its chance to buy a plan, so events in a site's first weeks predict its
purchases. ``demo_truth`` stores each site's true propensity, which lets a test
compare a trained model with the best possible one.

Sites are generated in chunks of ``CHUNK_SITES`` with vectorised numpy and
appended to DuckDB through Arrow, so memory stays flat as ``n_sites`` grows.
"""

from __future__ import annotations

import datetime
import logging
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

logger = logging.getLogger(__name__)

HISTORY_START = datetime.datetime(2025, 1, 1)  # first instant of the demo history, UTC
HISTORY_END = datetime.datetime(2026, 1, 1)  # exclusive end, so the latest event falls on 2025-12-31

MIN_SITES = 100
# Sites per chunk. Each chunk draws from its own child of the seed, so the data
# depend on this value: changing it changes what every seed generates.
CHUNK_SITES = 100_000

# Timestamps are int64 microseconds since the Unix epoch, truncated to whole
# milliseconds as in most event logs. That keeps every value on a millisecond
# grid, which the event sort relies on.
_US_PER_MS = 1_000
_US_PER_SECOND = 1_000_000
_MS_PER_DAY = 86_400_000
_US_PER_DAY = _MS_PER_DAY * _US_PER_MS
_EPOCH = datetime.datetime(1970, 1, 1)
_START_US = (HISTORY_START - _EPOCH) // datetime.timedelta(microseconds=1)
_END_US = (HISTORY_END - _EPOCH) // datetime.timedelta(microseconds=1)
_START_EPOCH_DAY = (HISTORY_START - _EPOCH).days
_HISTORY_DAYS = (HISTORY_END - HISTORY_START).days

# Table definitions, with the column names and types of the warehouse contract.
_TABLE_COLUMNS = {
    "sites": [
        ("site_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("created_at", "TIMESTAMP"),
        ("lang", "VARCHAR"),
        ("country", "VARCHAR"),
    ],
    "users": [
        ("user_id", "BIGINT"),
        ("created_at", "TIMESTAMP"),
        ("lang", "VARCHAR"),
        ("country", "VARCHAR"),
    ],
    "subscriptions": [
        ("site_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("product", "VARCHAR"),
        ("is_paid", "BOOLEAN"),
        ("started_at", "TIMESTAMP"),
        ("ended_at", "TIMESTAMP"),
    ],
    "events": [
        ("site_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("event", "VARCHAR"),
        ("ts", "TIMESTAMP"),
    ],
    "traffic": [
        ("site_id", "BIGINT"),
        ("day", "DATE"),
        ("views", "BIGINT"),
        ("visitors", "BIGINT"),
    ],
    "demo_truth": [
        ("site_id", "BIGINT"),
        ("propensity", "DOUBLE"),
    ],
}

# --- Population ---------------------------------------------------------------

# Share of users who own 1, 2 or 3 sites. The mean of 1.33 sites per user gives
# about 0.75 users per site.
_SITES_PER_USER_P = np.array([0.76, 0.15, 0.09])
_SITE_TREND_GROWTH = 0.6  # the daily signup rate grows by 60 % over the year
_WEEKEND_FACTOR = 0.72  # signups on Saturday and Sunday relative to weekdays
# A user's second and third sites follow the first after an exponential gap:
# (share of later sites, mean gap in days).
_LATER_SITE_GAPS = [(0.4, 2 / 24), (0.6, 45.0)]
_NULL_COUNTRY_P = 0.008
_NULL_LANG_P = 0.004

# (country, relative weight, main language, shift of the log purchase hazard)
_COUNTRIES = [
    ("us", 28.0, "en", 0.15), ("gb", 6.0, "en", 0.15), ("in", 6.0, "en", -0.3),
    ("de", 5.0, "de", 0.15), ("br", 5.0, "pt", -0.25), ("fr", 4.0, "fr", 0.05),
    ("jp", 3.0, "ja", 0.0), ("ca", 3.0, "en", 0.15), ("es", 2.5, "es", 0.0),
    ("it", 2.5, "it", 0.0), ("au", 2.0, "en", 0.15), ("mx", 2.0, "es", -0.2),
    ("id", 2.0, "id", -0.3), ("nl", 1.5, "nl", 0.15), ("ph", 1.5, "en", -0.3),
    ("ru", 1.2, "ru", -0.2), ("pl", 1.2, "pl", 0.0), ("tr", 1.0, "tr", -0.15),
    ("ng", 1.0, "en", -0.3), ("kr", 0.8, "ko", 0.0), ("se", 0.8, "sv", 0.15),
    ("za", 0.8, "en", -0.1), ("ar", 0.8, "es", -0.2), ("co", 0.7, "es", -0.2),
    ("pk", 0.7, "en", -0.3), ("pt", 0.6, "pt", 0.0), ("th", 0.6, "th", -0.15),
    ("vn", 0.6, "vi", -0.3), ("cl", 0.5, "es", -0.1), ("be", 0.5, "fr", 0.1),
    ("ch", 0.5, "de", 0.2), ("my", 0.5, "ms", -0.1), ("bd", 0.5, "bn", -0.3),
    ("eg", 0.5, "ar", -0.3), ("ua", 0.5, "ru", -0.2), ("at", 0.4, "de", 0.15),
    ("ie", 0.4, "en", 0.15), ("sg", 0.4, "en", 0.15), ("ke", 0.4, "en", -0.3),
    ("ro", 0.4, "ro", -0.1), ("tw", 0.4, "zh-tw", 0.0), ("dk", 0.3, "da", 0.15),
    ("no", 0.3, "nb", 0.15), ("fi", 0.3, "fi", 0.15), ("nz", 0.3, "en", 0.15),
    ("gh", 0.3, "en", -0.3), ("gr", 0.3, "el", -0.05), ("cz", 0.3, "cs", 0.0),
    ("hu", 0.3, "hu", 0.0), ("il", 0.3, "he", 0.1), ("ae", 0.3, "ar", 0.1),
    ("sa", 0.3, "ar", 0.0), ("hk", 0.3, "zh-tw", 0.05), ("cn", 0.3, "zh-cn", -0.1),
    ("pe", 0.3, "es", -0.2), ("ve", 0.2, "es", -0.3), ("lk", 0.2, "en", -0.3),
    ("np", 0.2, "en", -0.3), ("hr", 0.15, "hr", 0.0), ("rs", 0.15, "sr", -0.1),
    ("bg", 0.15, "bg", -0.1), ("sk", 0.15, "sk", 0.0), ("ec", 0.15, "es", -0.2),
    ("uy", 0.1, "es", -0.1), ("is", 0.05, "is", 0.1), ("ee", 0.05, "et", 0.05),
]
_COUNTRY_CODES = np.array([row[0] for row in _COUNTRIES])
_COUNTRY_P = np.array([row[1] for row in _COUNTRIES]) / sum(row[1] for row in _COUNTRIES)
_LANG_CODES = np.array(sorted({row[2] for row in _COUNTRIES}))
_COUNTRY_LANG = np.searchsorted(_LANG_CODES, [row[2] for row in _COUNTRIES])
_COUNTRY_HAZARD_SHIFT = np.array([row[3] for row in _COUNTRIES])
_ENGLISH = int(np.searchsorted(_LANG_CODES, "en"))
# Users in a non-English country who still write in English.
_ENGLISH_ELSEWHERE_P = 0.3

# Hidden site type, which shifts the purchase hazard a little and changes which
# event names are popular on the site.
_SEGMENT_P = np.array([0.45, 0.25, 0.15, 0.15])  # blog, business, store, portfolio
_SEGMENT_HAZARD_SHIFT = np.array([-0.1, 0.2, 0.35, 0.0])

# --- Purchases ----------------------------------------------------------------

# The first purchase follows the hazard h(t) = base * exp(log_hazard) * exp(-t / tau)
# over the site's age t in days, with log_hazard = beta * z + country and segment
# shifts. On five 20,000-site warehouses, 2.8 to 3.2 % of the sites still free
# on their day 30 bought during days 31 to 37, and the propensity ranked those
# buyers with a ROC AUC of 0.82 to 0.85. Of all sites, 36 to 38 % bought.
# NOTE: with this hazard shape a weekly rate of 3 % after day 30 implies that
# more than 30 % of the sites buy, so a smaller buyer share lowers that rate.
_HAZARD_BETA = 2.0
_HAZARD_TAU_DAYS = 120.0
_HAZARD_BASE = 0.0036  # per day
_PAID_PRODUCTS = ["personal", "premium", "business", "ecommerce"]
_PRODUCT_P = np.array([0.45, 0.33, 0.15, 0.07])
_TRIAL_PRODUCT = "trial"
_PRODUCTS = [*_PAID_PRODUCTS, _TRIAL_PRODUCT]
_YEARLY_LOGIT_Z_SLOPE = 0.5  # P(yearly term) = sigmoid(0.5 * z), and other terms last 30 days
_PRODUCT_LOGIT_Z_SLOPE = 0.4  # a higher z shifts the product choice toward dearer plans
# P(renew at the end of a term) = sigmoid(intercept + slope * z)
_RENEW_LOGIT_MONTHLY = 2.0
_RENEW_LOGIT_YEARLY = 0.8
_RENEW_LOGIT_Z_SLOPE = 0.6
_UPGRADE_ON_RENEWAL_P = 0.03  # renewal moves up one plan
_SWITCH_TO_YEARLY_P = 0.03  # a monthly renewal switches to a yearly term
# P(a lapsed site buys again) = sigmoid(intercept + slope * z), after a gap of
# at least one day plus an exponential number of days.
_REPURCHASE_LOGIT = -2.2
_REPURCHASE_LOGIT_Z_SLOPE = 0.5
_REPURCHASE_MIN_GAP_DAYS = 1
_REPURCHASE_MEAN_EXTRA_GAP_DAYS = 60.0
# P(a site starts a free trial) = sigmoid(intercept + slope * z). Trials start
# an exponential number of days after the site's creation.
_TRIAL_DAYS = 14
_TRIAL_LOGIT = -1.9
_TRIAL_LOGIT_Z_SLOPE = 0.5
_TRIAL_MEAN_START_DAYS = 3.0

# --- Events -------------------------------------------------------------------

# A site's event rate per day is rate0 * exp(alpha * z) * frailty * (exp(-t / tau) + floor)
# at age t days. The frailty is Gamma distributed with mean 1.
_EVENT_RATE0 = 2.0  # events per day of a new site with z = 0
_EVENT_ALPHA = 0.8
_EVENT_TAU_DAYS = 30.0
_EVENT_RATE_FLOOR = 0.06
_EVENT_FRAILTY_SHAPE = 4.0
_USER_EVENT_P = 0.05  # share of events that belong to the user only
# Share of a site's events that are intent events: max_share * sigmoid(a0 + a1 * z).
_INTENT_MAX_SHARE = 0.6
_INTENT_LOGIT_A0 = -3.0
_INTENT_LOGIT_A1 = 2.6
_ZIPF_EXPONENT = 1.1
_EVENT_NAMES_AT_20K_SITES = 1000
_EVENT_NAMES_GROWTH = 0.41  # number of names ~ n_sites ** 0.41
_SEGMENT_RANK_JITTER = 1.0  # sd of the per-segment noise on log(rank)
# Fixed seed for the event vocabulary, so event names do not depend on `seed`.
_VOCABULARY_SEED = 20250101

_INTENT_EVENTS = [
    ("plan_compare_view", 0.25), ("pricing_page_view", 0.2), ("domain_search", 0.2),
    ("upgrade_banner_click", 0.12), ("checkout_start", 0.08),
    ("plan_feature_tooltip_view", 0.06), ("custom_domain_connect_start", 0.05),
    ("storage_limit_notice_view", 0.04),
]
_USER_EVENTS = [
    ("login", 0.55), ("logout", 0.15), ("profile_update", 0.1),
    ("notification_settings_update", 0.07), ("password_reset_request", 0.05),
    ("account_email_verify", 0.04), ("two_factor_enable", 0.03), ("account_close_start", 0.01),
]
_CHECKOUT_START = "checkout_start"
_CHECKOUT_COMPLETE = "checkout_complete"
_TRIAL_START = "trial_start"
# Most frequent product events, in order of rank.
_CORE_EVENTS = [
    "editor_open", "post_draft_save", "post_publish", "media_upload", "stats_view",
    "post_update", "page_publish", "editor_block_insert_paragraph", "editor_block_insert_image",
    "reader_post_view", "comment_approve", "editor_block_insert_heading", "page_update",
    "theme_preview", "site_settings_update", "comment_reply", "reader_post_like",
    "media_edit", "editor_block_insert_gallery", "post_schedule", "menu_update",
    "theme_activate", "plugin_search", "plugin_install", "widget_add", "reader_site_follow",
    "post_trash", "site_preview", "customizer_open", "editor_block_insert_list",
    "social_share_click", "seo_settings_update", "newsletter_subscriber_add",
    "editor_block_insert_button", "media_delete", "stats_post_view", "comment_trash",
    "editor_block_insert_video", "payments_button_insert", "form_submission_view",
]
_AREAS = [
    "editor", "post", "page", "media", "theme", "plugin", "site", "stats", "reader",
    "comment", "domain", "store", "menu", "widget", "seo", "social", "email",
    "newsletter", "form", "settings", "import", "export", "backup", "security",
    "payments", "booking", "gallery", "search", "notifications", "onboarding",
    "launchpad", "mobile_app", "sharing", "subscribers", "podcast", "ads",
    "analytics", "people", "hosting", "marketplace",
]
_OBJECTS = [
    "button", "modal", "tab", "panel", "link", "menu", "card", "banner", "list",
    "filter", "toggle", "tooltip", "form", "notice", "sidebar", "toolbar", "dropdown",
    "checklist", "wizard", "preview", "table", "chart", "calendar", "upload",
    "template", "pattern", "section", "header", "footer", "block",
]
_VERBS = [
    "click", "view", "open", "close", "submit", "dismiss", "toggle", "select",
    "expand", "collapse", "save", "cancel", "edit", "delete", "create", "copy",
    "share", "drag", "resize", "error",
]
_EDITOR_BLOCKS = [
    "paragraph", "image", "heading", "gallery", "list", "quote", "button", "video",
    "audio", "file", "cover", "columns", "group", "table", "code", "embed", "map",
    "calendar", "spacer", "separator", "pullquote", "verse", "preformatted",
    "media_text", "latest_posts", "archives", "categories", "search", "social_icons",
    "navigation", "site_logo", "site_title", "query_loop", "contact_form",
    "subscription_form", "payments_button", "donations", "slideshow", "tiled_gallery",
    "recipe", "business_hours", "opentable", "eventbrite", "podcast_player",
    "pinterest", "instagram", "tweet", "youtube", "soundcloud", "spotify",
]
_EDITOR_BLOCK_VERBS = ["insert", "remove", "transform", "move", "duplicate"]

# --- Traffic ------------------------------------------------------------------

_VIEWS_LOG_MEAN = 1.2
_VIEWS_Z_SLOPE = 0.4
_VIEWS_EVENTS_SLOPE = 0.6  # elasticity of views to the site's events that day
_VIEWS_SITE_SD = 0.8
_VIEWS_DAY_SD = 0.9
_VIEWS_MAX = 10**8


def event_name_count(n_sites: int) -> int:
    """Return the number of distinct event names for a warehouse of n_sites sites."""
    scaled = round(_EVENT_NAMES_AT_20K_SITES * (n_sites / 20_000) ** _EVENT_NAMES_GROWTH)
    return max(_EVENT_NAMES_AT_20K_SITES, scaled)


def write_demo_warehouse(
    path: str | Path,
    n_sites: int = 20_000,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write a demo warehouse of n_sites sites to the DuckDB file at path.

    The file contains the tables sites, users, subscriptions, events, traffic and
    demo_truth (site_id, propensity). The same seed and n_sites give the same
    table contents. The data are written to a temporary file beside path, which
    is renamed into place only on success, so a failed or interrupted run leaves
    any existing file at path unchanged.

    progress, when given, is called as progress(done_sites) after each chunk.
    Returns the number of rows written per table.
    Raises ValueError for n_sites below MIN_SITES, a negative seed, or a path
    that is a directory or whose parent directory does not exist.
    """
    if n_sites < MIN_SITES:
        raise ValueError(f"n_sites must be at least {MIN_SITES}, got {n_sites}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"output path {path} is a directory, so pass a file name such as {path / 'demo.duckdb'}")
    if not path.parent.is_dir():
        raise ValueError(f"output directory {path.parent} does not exist; create it first or choose another path")

    started = time.perf_counter()
    logger.info("Writing demo warehouse with %d sites (seed %d) to %s", n_sites, seed, path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        counts = _write_tables(temporary, n_sites, seed, progress)
        # A write-ahead log beside the old file would be replayed into the new one.
        stale_wal = Path(f"{path}.wal")
        if stale_wal.exists():
            logger.info("Removing %s, the write-ahead log of the file being replaced", stale_wal)
            stale_wal.unlink()
        os.replace(temporary, path)
    except BaseException:
        for leftover in (temporary, Path(f"{temporary}.wal")):
            leftover.unlink(missing_ok=True)
        raise

    logger.info(
        "Wrote demo warehouse %s in %.1f s: %s",
        path,
        time.perf_counter() - started,
        ", ".join(f"{table} {count:,} rows" for table, count in counts.items()),
    )
    return counts


def _write_tables(
    path: Path, n_sites: int, seed: int, progress: Callable[[int], None] | None
) -> dict[str, int]:
    n_chunks = -(-n_sites // CHUNK_SITES)
    # Child i of a SeedSequence does not depend on how many children are spawned.
    population_seed, *chunk_seeds = np.random.SeedSequence(seed).spawn(1 + n_chunks)
    vocabulary = _EventVocabulary.build(event_name_count(n_sites))
    counts = dict.fromkeys(_TABLE_COLUMNS, 0)

    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        for table, columns in _TABLE_COLUMNS.items():
            column_list = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
            con.execute(f"CREATE TABLE {table} ({column_list})")

        population = _draw_population(np.random.default_rng(population_seed), n_sites)
        _append(con, {
            "sites": _sites_table(population),
            "users": _users_table(population),
            "demo_truth": _truth_table(population),
        })
        counts.update(sites=n_sites, users=len(population.user_created_us), demo_truth=n_sites)

        # One writer thread inserts chunk k while the main thread draws chunk
        # k + 1, because DuckDB and numpy release the GIL for most of that work.
        # Only one thread uses the connection at any time.
        latest_event_us = _START_US
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-writer") as writer:
            pending: tuple[Future, int] | None = None
            for index, chunk_seed in enumerate(chunk_seeds):
                chunk_started = time.perf_counter()
                low = index * CHUNK_SITES
                high = min(low + CHUNK_SITES, n_sites)
                tables = _draw_chunk(np.random.default_rng(chunk_seed), population.slice(low, high), vocabulary, index)
                for table, data in tables.items():
                    counts[table] += data.num_rows
                if tables["events"].num_rows:
                    latest_event_us = max(latest_event_us, tables["events"]["ts"][-1].value)
                logger.debug(
                    "Drew chunk %d of %d (sites %d to %d, %d events) in %.1f s",
                    index + 1, n_chunks, low + 1, high, tables["events"].num_rows,
                    time.perf_counter() - chunk_started,
                )

                if pending is not None:
                    _wait_for_write(pending, progress)
                pending = (writer.submit(_append, con, tables), high)
                del tables
            _wait_for_write(pending, progress)

        counts["events"] += _ensure_last_day_has_event(con, population, latest_event_us)
    finally:
        con.close()
    return counts


def _draw_chunk(
    rng: np.random.Generator, sites: _Population, vocabulary: _EventVocabulary, index: int
) -> dict[str, pa.Table]:
    """Draw the subscriptions, events and traffic of one chunk of sites."""
    subscriptions = _draw_subscriptions(rng, sites)
    events = _draw_events(rng, sites, subscriptions, vocabulary, cover_vocabulary=index == 0)
    traffic = _draw_traffic(rng, sites, events)
    return {
        "subscriptions": _subscriptions_table(sites, subscriptions),
        "events": _events_table(sites, events, vocabulary),
        "traffic": _traffic_table(sites, traffic),
    }


def _wait_for_write(pending: tuple[Future, int], progress: Callable[[int], None] | None) -> None:
    future, done_sites = pending
    future.result()
    if progress is not None:
        progress(done_sites)


def _append(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    for table, data in tables.items():
        con.register("demo_chunk", data)
        try:
            con.execute(f"INSERT INTO {table} SELECT * FROM demo_chunk")
        finally:
            con.unregister("demo_chunk")


def _ensure_last_day_has_event(con: duckdb.DuckDBPyConnection, population: _Population, latest_event_us: int) -> int:
    """Add a login event on the last day of the history when no event fell on it.

    pipe takes the date of the latest event as the last complete day, so the demo
    must end on the last day of its history. This almost never triggers because
    the newest sites are the most active.
    """
    if latest_event_us >= _END_US - _US_PER_DAY:
        return 0
    user_index = len(population.user_created_us) - 1
    ts_us = max(_END_US - 60 * _US_PER_SECOND, int(population.user_created_us[user_index]))
    con.execute(
        "INSERT INTO events VALUES (NULL, ?, 'login', make_timestamp(?))",
        [user_index + 1, ts_us],
    )
    return 1


# --- Population ---------------------------------------------------------------


@dataclass
class _Population:
    """Sites ordered by creation (site_id = index + 1) and their owners."""

    site_created_us: np.ndarray  # int64 microseconds since the Unix epoch
    site_user_index: np.ndarray  # owner's index into the user arrays (user_id = index + 1)
    site_lang: np.ndarray  # int16 index into _LANG_CODES, -1 for NULL
    site_country: np.ndarray  # int16 index into _COUNTRY_CODES, -1 for NULL
    z: np.ndarray  # latent propensity, N(0, 1)
    segment: np.ndarray  # int8 index into _SEGMENT_P
    log_hazard: np.ndarray  # log of the site's purchase hazard relative to _HAZARD_BASE
    user_created_us: np.ndarray
    user_lang: np.ndarray
    user_country: np.ndarray
    first_site_id: int = 1

    def slice(self, low: int, high: int) -> _Population:
        """Return the sites [low, high) with the user arrays unchanged."""
        return _Population(
            site_created_us=self.site_created_us[low:high],
            site_user_index=self.site_user_index[low:high],
            site_lang=self.site_lang[low:high],
            site_country=self.site_country[low:high],
            z=self.z[low:high],
            segment=self.segment[low:high],
            log_hazard=self.log_hazard[low:high],
            user_created_us=self.user_created_us,
            user_lang=self.user_lang,
            user_country=self.user_country,
            first_site_id=self.first_site_id + low,
        )

    @property
    def site_ids(self) -> np.ndarray:
        return np.arange(self.first_site_id, self.first_site_id + len(self.z), dtype=np.int64)

    @property
    def propensity(self) -> np.ndarray:
        """Probability that a site still free on day 30 buys a plan during days 31 to 37."""
        tau = _HAZARD_TAU_DAYS
        week_hazard = _HAZARD_BASE * tau * (np.exp(-30 / tau) - np.exp(-37 / tau))
        return -np.expm1(-week_hazard * np.exp(self.log_hazard))


def _draw_population(rng: np.random.Generator, n_sites: int) -> _Population:
    """Draw users, their sites, creation times, languages, countries and latents."""
    # Sites per user: draw more counts than needed, keep users until n_sites
    # sites are reached and trim the last user's count.
    sites_per_user = rng.choice(np.arange(1, 4), size=n_sites, p=_SITES_PER_USER_P)
    cumulative = np.cumsum(sites_per_user)
    n_users = int(np.searchsorted(cumulative, n_sites)) + 1
    sites_per_user = sites_per_user[:n_users]
    sites_per_user[-1] -= cumulative[n_users - 1] - n_sites

    later_per_user = (n_sites - n_users) / n_users
    first_site_us = _draw_first_site_times(rng, n_users, later_per_user)
    owner = np.repeat(np.arange(n_users), sites_per_user)
    position = np.arange(n_sites) - np.repeat(np.cumsum(sites_per_user) - sites_per_user, sites_per_user)
    site_created_us = _draw_later_site_times(rng, first_site_us[owner], position > 0)

    # Most users sign up minutes before creating their first site, and some return weeks later.
    returning = rng.random(n_users) < 0.2
    lag_minutes = np.where(returning, rng.exponential(15 * 1440, n_users), rng.exponential(4, n_users))
    user_created_us = np.maximum(first_site_us - _days_to_us(lag_minutes / 1440), _START_US)

    user_country = rng.choice(len(_COUNTRY_CODES), size=n_users, p=_COUNTRY_P).astype(np.int16)
    user_lang = _draw_languages(rng, user_country)
    site_country = np.where(
        rng.random(n_sites) < 0.95,
        user_country[owner],
        rng.choice(len(_COUNTRY_CODES), size=n_sites, p=_COUNTRY_P),
    ).astype(np.int16)
    site_lang = np.where(rng.random(n_sites) < 0.9, user_lang[owner], _draw_languages(rng, site_country))
    z = rng.standard_normal(n_sites)
    segment = rng.choice(len(_SEGMENT_P), size=n_sites, p=_SEGMENT_P).astype(np.int8)
    log_hazard = _HAZARD_BETA * z + _COUNTRY_HAZARD_SHIFT[site_country] + _SEGMENT_HAZARD_SHIFT[segment]

    # The country draws above come before the NULLs, so a site whose country is
    # NULL still carries its real country's hazard shift, as a real site would.
    user_country[rng.random(n_users) < _NULL_COUNTRY_P] = -1
    user_lang[rng.random(n_users) < _NULL_LANG_P] = -1
    site_country[rng.random(n_sites) < _NULL_COUNTRY_P] = -1
    site_lang[rng.random(n_sites) < _NULL_LANG_P] = -1

    # Number sites and users in order of creation, as a warehouse's ids would be.
    site_order = np.argsort(site_created_us, kind="stable")
    user_order = np.argsort(user_created_us, kind="stable")
    user_rank = np.empty(n_users, dtype=np.int64)
    user_rank[user_order] = np.arange(n_users)
    return _Population(
        site_created_us=site_created_us[site_order],
        site_user_index=user_rank[owner[site_order]],
        site_lang=site_lang[site_order],
        site_country=site_country[site_order],
        z=z[site_order],
        segment=segment[site_order],
        log_hazard=log_hazard[site_order],
        user_created_us=user_created_us[user_order],
        user_lang=user_lang[user_order],
        user_country=user_country[user_order],
    )


def _draw_first_site_times(rng: np.random.Generator, n: int, later_per_user: float) -> np.ndarray:
    """Draw n users' first-site instants, most in the UTC afternoon.

    The day weights make all sites, first and later ones together, follow the
    site trend of _site_day_weights.
    """
    hour = np.arange(24)
    hour_weight = 1 + 0.6 * np.cos(2 * np.pi * (hour - 17) / 24)

    days = _draw_categorical(rng, _first_site_day_weights(later_per_user), n)
    hours = _draw_categorical(rng, hour_weight, n)
    within_hour_us = _days_to_us(rng.random(n) / 24)
    return _START_US + days * _US_PER_DAY + hours * 3600 * _US_PER_SECOND + within_hour_us


def _site_day_weights() -> np.ndarray:
    """Return the relative number of sites created on each day: a growth trend, fewer on weekends."""
    day = np.arange(_HISTORY_DAYS)
    weekday = (HISTORY_START.weekday() + day) % 7
    return (1 + _SITE_TREND_GROWTH * day / _HISTORY_DAYS) * np.where(weekday >= 5, _WEEKEND_FACTOR, 1.0)


def _first_site_day_weights(later_per_user: float) -> np.ndarray:
    """Return day weights for first sites so that all sites follow _site_day_weights.

    Later sites come after their user's first site within the history, so first
    sites drawn from the target trend would leave too few sites in January and
    pile the later ones up in December. A fixed-point iteration rescales the
    first-site weights until the expected number of sites per day matches the
    target, on a daily grid that puts each first site at noon.
    """
    target = _site_day_weights()
    target /= target.sum()

    # spread[a, d]: probability that a later site of a user whose first site is
    # at noon of day a lands on day d, for the truncated gaps of _later_site_gaps.
    first_day = np.arange(_HISTORY_DAYS)[:, None]
    remaining = _HISTORY_DAYS - first_day - 0.5
    spread = np.zeros((_HISTORY_DAYS, _HISTORY_DAYS))
    for share, mean_days in _LATER_SITE_GAPS:
        edges = np.clip(np.arange(_HISTORY_DAYS + 1)[None, :] - first_day - 0.5, 0, remaining)
        cdf = -np.expm1(-edges / mean_days) / -np.expm1(-remaining / mean_days)
        spread += share * np.diff(cdf, axis=1)

    weights = target.copy()
    for _ in range(50):
        expected = (weights + later_per_user * weights @ spread) / (1 + later_per_user)
        weights *= target / expected
        weights /= weights.sum()
    return weights


def _draw_later_site_times(rng: np.random.Generator, first_us: np.ndarray, is_later: np.ndarray) -> np.ndarray:
    """Place a user's second and third sites hours or weeks after the first, within the history."""
    n = len(first_us)
    shares = np.array([share for share, _ in _LATER_SITE_GAPS])
    mean_gap_days = np.array([mean for _, mean in _LATER_SITE_GAPS])[_draw_categorical(rng, shares, n)]
    # Exponential gaps truncated to the rest of the history, by inverse transform.
    remaining_days = (_END_US - _US_PER_MS - first_us) / _US_PER_DAY
    truncation = -np.expm1(-remaining_days / mean_gap_days)
    gap_days = -mean_gap_days * np.log1p(-rng.random(n) * truncation)
    return np.where(is_later, first_us + _days_to_us(gap_days), first_us)


def _draw_languages(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    english = rng.random(len(country)) < _ENGLISH_ELSEWHERE_P
    return np.where(english, _ENGLISH, _COUNTRY_LANG[country]).astype(np.int16)


def _draw_categorical(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Draw n indices with probability proportional to weights (faster than Generator.choice)."""
    cdf = np.cumsum(weights, dtype=np.float64)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(weights) - 1)


def _days_to_us(days: np.ndarray) -> np.ndarray:
    """Convert durations in days to microseconds, truncated to whole milliseconds."""
    return (np.asarray(days) * _MS_PER_DAY).astype(np.int64) * _US_PER_MS


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# --- Subscriptions ------------------------------------------------------------


@dataclass
class _Subscriptions:
    """Subscription rows of one chunk, sorted by site and start."""

    site: np.ndarray  # index of the site within the chunk
    product: np.ndarray  # index into _PRODUCTS
    started_us: np.ndarray
    ended_us: np.ndarray  # -1 for a row still active at HISTORY_END
    purchase_site: np.ndarray  # site index of each purchase (first or after a lapse)
    purchase_us: np.ndarray
    trial_site: np.ndarray
    trial_us: np.ndarray


def _draw_subscriptions(rng: np.random.Generator, sites: _Population) -> _Subscriptions:
    """Draw first purchases from the hazard, then renewals, lapses, repurchases and trials."""
    n = len(sites.z)
    created_us = sites.site_created_us
    z = sites.z

    # Inverse transform of the cumulative hazard
    # H(t) = base * tau * exp(log_hazard) * (1 - exp(-t / tau)), which tends to
    # base * tau * exp(log_hazard). A site whose exponential draw exceeds that never buys.
    tau = _HAZARD_TAU_DAYS
    ceiling = _HAZARD_BASE * tau * np.exp(sites.log_hazard)
    fraction = rng.standard_exponential(n) / ceiling
    buys = fraction < 1
    age_days = -tau * np.log1p(-fraction[buys])
    first_us = created_us[buys] + _days_to_us(age_days)
    in_history = first_us < _END_US
    buyer = np.flatnonzero(buys)[in_history]
    first_us = first_us[in_history]

    rows_site, rows_product, rows_start, rows_end = [], [], [], []
    purchase_site, purchase_us = [buyer], [first_us]

    # Each round writes one row per active term and ends those terms. A renewal
    # starts the next row at this row's end, and a lapsed site may buy again later.
    site = buyer
    start_us = first_us
    product = _draw_products(rng, z[site])
    yearly = rng.random(len(site)) < _sigmoid(_YEARLY_LOGIT_Z_SLOPE * z[site])
    while len(site):
        end_us = start_us + np.where(yearly, 365, 30) * _US_PER_DAY
        active_at_end = end_us >= _END_US
        rows_site.append(site)
        rows_product.append(product)
        rows_start.append(start_us)
        rows_end.append(np.where(active_at_end, -1, end_us))

        renew_logit = np.where(yearly, _RENEW_LOGIT_YEARLY, _RENEW_LOGIT_MONTHLY) + _RENEW_LOGIT_Z_SLOPE * z[site]
        renews = ~active_at_end & (rng.random(len(site)) < _sigmoid(renew_logit))
        lapses = ~active_at_end & ~renews
        repurchase_p = _sigmoid(_REPURCHASE_LOGIT + _REPURCHASE_LOGIT_Z_SLOPE * z[site])
        buys_again = lapses & (rng.random(len(site)) < repurchase_p)
        gap_days = _REPURCHASE_MIN_GAP_DAYS + rng.exponential(_REPURCHASE_MEAN_EXTRA_GAP_DAYS, len(site))
        again_us = end_us + _days_to_us(gap_days)
        buys_again &= again_us < _END_US
        purchase_site.append(site[buys_again])
        purchase_us.append(again_us[buys_again])

        # A renewal sometimes moves up one plan or switches a monthly term to yearly.
        upgraded = np.minimum(product + (rng.random(len(site)) < _UPGRADE_ON_RENEWAL_P), len(_PAID_PRODUCTS) - 1)
        switched = yearly | (rng.random(len(site)) < _SWITCH_TO_YEARLY_P)
        fresh_product = _draw_products(rng, z[site])
        fresh_yearly = rng.random(len(site)) < _sigmoid(_YEARLY_LOGIT_Z_SLOPE * z[site])

        keep = renews | buys_again
        site = site[keep]
        start_us = np.where(renews, end_us, again_us)[keep]
        product = np.where(renews, upgraded, fresh_product)[keep]
        yearly = np.where(renews, switched, fresh_yearly)[keep]

    trial_site, trial_us, trial_end_us = _draw_trials(rng, sites, buyer, first_us)
    rows_site.append(trial_site)
    rows_product.append(np.full(len(trial_site), _PRODUCTS.index(_TRIAL_PRODUCT)))
    rows_start.append(trial_us)
    rows_end.append(trial_end_us)

    site = np.concatenate(rows_site)
    started_us = np.concatenate(rows_start)
    order = np.lexsort((started_us, site))
    return _Subscriptions(
        site=site[order],
        product=np.concatenate(rows_product)[order],
        started_us=started_us[order],
        ended_us=np.concatenate(rows_end)[order],
        purchase_site=np.concatenate(purchase_site),
        purchase_us=np.concatenate(purchase_us),
        trial_site=trial_site,
        trial_us=trial_us,
    )


def _draw_products(rng: np.random.Generator, z: np.ndarray) -> np.ndarray:
    """Draw paid products, where a higher z shifts the choice toward the dearer plans."""
    uniform = np.clip(rng.random(len(z)), 1e-12, 1 - 1e-12)
    shifted = _sigmoid(np.log(uniform / (1 - uniform)) + _PRODUCT_LOGIT_Z_SLOPE * z)
    cdf = np.cumsum(_PRODUCT_P)
    return np.minimum(np.searchsorted(cdf, shifted, side="right"), len(_PAID_PRODUCTS) - 1)


def _draw_trials(
    rng: np.random.Generator, sites: _Population, buyer: np.ndarray, first_us: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw free trials early in a site's life. A purchase during a trial ends the trial."""
    n = len(sites.z)
    takes_trial = rng.random(n) < _sigmoid(_TRIAL_LOGIT + _TRIAL_LOGIT_Z_SLOPE * sites.z)
    trial_us = sites.site_created_us + _days_to_us(rng.exponential(_TRIAL_MEAN_START_DAYS, n))
    purchase_us = np.full(n, np.iinfo(np.int64).max)
    purchase_us[buyer] = first_us
    takes_trial &= (trial_us < _END_US) & (trial_us < purchase_us)

    site = np.flatnonzero(takes_trial)
    start_us = trial_us[site]
    end_us = np.minimum(start_us + _TRIAL_DAYS * _US_PER_DAY, purchase_us[site])
    end_us = np.where(end_us >= _END_US, -1, end_us)
    return site, start_us, end_us


# --- Events -------------------------------------------------------------------


@dataclass
class _EventVocabulary:
    """Event names and the frequency ranks used to draw them."""

    names: list[str]
    n_general: int  # names[:n_general] are product events drawn by Zipf rank
    intent: np.ndarray  # indices into names
    intent_p: np.ndarray
    user: np.ndarray
    user_p: np.ndarray
    rank_cdf: np.ndarray  # Zipf cumulative distribution over ranks 1..n_general
    segment_names: np.ndarray  # (segment, rank) -> index into names

    @classmethod
    def build(cls, n_names: int) -> _EventVocabulary:
        """Build n_names names: fixed intent, user and system names plus product events.

        The product events start with _CORE_EVENTS and continue with generated
        names in a fixed shuffled order, so a smaller vocabulary is a prefix of
        a larger one. The count is capped at the number of names that can be
        generated (about 25,000, reached near 50 million sites).
        """
        special = [name for name, _ in _INTENT_EVENTS] + [name for name, _ in _USER_EVENTS]
        special += [_CHECKOUT_COMPLETE, _TRIAL_START]
        reserved = set(special) | set(_CORE_EVENTS)
        generated = [f"editor_block_{verb}_{block}" for block in _EDITOR_BLOCKS for verb in _EDITOR_BLOCK_VERBS]
        generated += [f"{area}_{obj}_{verb}" for area in _AREAS for obj in _OBJECTS for verb in _VERBS]
        generated = [name for name in dict.fromkeys(generated) if name not in reserved]
        vocabulary_rng = np.random.default_rng(_VOCABULARY_SEED)
        shuffled = [generated[i] for i in vocabulary_rng.permutation(len(generated))]

        n_general = min(n_names - len(special), len(_CORE_EVENTS) + len(shuffled))
        general = (_CORE_EVENTS + shuffled)[:n_general]
        names = general + special

        rank_weight = np.arange(1, n_general + 1, dtype=np.float64) ** -_ZIPF_EXPONENT
        rank_cdf = np.cumsum(rank_weight)
        rank_cdf /= rank_cdf[-1]

        # Each segment keeps the core ranks and jitters the rest on a log scale,
        # so popular names stay popular but each site type has its own favourites.
        log_rank = np.log(np.arange(1, n_general + 1))
        segment_names = np.empty((len(_SEGMENT_P), n_general), dtype=np.int32)
        n_core = min(len(_CORE_EVENTS), n_general)
        for segment in range(len(_SEGMENT_P)):
            key = log_rank + vocabulary_rng.normal(0, _SEGMENT_RANK_JITTER, n_general)
            key[:n_core] = log_rank[:n_core] - 100
            segment_names[segment] = np.argsort(key, kind="stable")

        intent_names = [name for name, _ in _INTENT_EVENTS]
        user_names = [name for name, _ in _USER_EVENTS]
        return cls(
            names=names,
            n_general=n_general,
            intent=np.array([names.index(name) for name in intent_names], dtype=np.int32),
            intent_p=np.array([p for _, p in _INTENT_EVENTS]),
            user=np.array([names.index(name) for name in user_names], dtype=np.int32),
            user_p=np.array([p for _, p in _USER_EVENTS]),
            rank_cdf=rank_cdf,
            segment_names=segment_names,
        )

    def index(self, name: str) -> int:
        return self.names.index(name, self.n_general)


@dataclass
class _Events:
    """Events of one chunk, sorted by ts."""

    site: np.ndarray  # int32 index of the site within the chunk
    user_only: np.ndarray  # True for events of the user only, which get a NULL site_id
    name: np.ndarray  # int32 index into the vocabulary
    ts_us: np.ndarray


def _draw_events(
    rng: np.random.Generator,
    sites: _Population,
    subscriptions: _Subscriptions,
    vocabulary: _EventVocabulary,
    cover_vocabulary: bool,
) -> _Events:
    """Draw activity events, then add checkout events at purchases and trial_start at trials.

    With cover_vocabulary, one event per product name is renamed so that every
    name occurs at least once even in a small warehouse.
    """
    n = len(sites.z)
    age_limit_days = (_END_US - sites.site_created_us) / _US_PER_DAY
    frailty = rng.gamma(_EVENT_FRAILTY_SHAPE, 1 / _EVENT_FRAILTY_SHAPE, n)
    rate = _EVENT_RATE0 * np.exp(_EVENT_ALPHA * sites.z) * frailty

    # Decaying part: inverse transform of exp(-t / tau) truncated to [0, age limit).
    tau = _EVENT_TAU_DAYS
    decay_mass = -np.expm1(-age_limit_days / tau)
    n_decaying = rng.poisson(rate * tau * decay_mass)
    decaying_site = np.repeat(np.arange(n, dtype=np.int32), n_decaying)
    uniform = rng.random(len(decaying_site))
    decaying_age = -tau * np.log1p(-uniform * decay_mass[decaying_site])

    # Constant part: uniform over the site's life.
    n_steady = rng.poisson(rate * _EVENT_RATE_FLOOR * age_limit_days)
    steady_site = np.repeat(np.arange(n, dtype=np.int32), n_steady)
    steady_age = rng.random(len(steady_site)) * age_limit_days[steady_site]

    site = np.concatenate([decaying_site, steady_site])
    del decaying_site, steady_site
    age_days = np.concatenate([decaying_age, steady_age])
    del decaying_age, steady_age
    ts_us = sites.site_created_us[site] + _days_to_us(age_days)
    del age_days
    np.minimum(ts_us, _END_US - _US_PER_MS, out=ts_us)

    name, user_only = _draw_event_names(rng, sites, site, vocabulary, cover_vocabulary)

    # Checkout events at each purchase: the start a few minutes before, never
    # before the site's creation, and the completion at the purchase instant.
    purchase_site = subscriptions.purchase_site.astype(np.int32)
    checkout_gap_us = _days_to_us(rng.uniform(20, 900, len(purchase_site)) / 86_400)
    checkout_start_us = np.maximum(
        subscriptions.purchase_us - checkout_gap_us, sites.site_created_us[purchase_site]
    )
    extra_site = np.concatenate([purchase_site, purchase_site, subscriptions.trial_site.astype(np.int32)])
    extra_ts = np.concatenate([checkout_start_us, subscriptions.purchase_us, subscriptions.trial_us])
    extra_name = np.concatenate([
        np.full(len(purchase_site), vocabulary.index(_CHECKOUT_START), dtype=np.int32),
        np.full(len(purchase_site), vocabulary.index(_CHECKOUT_COMPLETE), dtype=np.int32),
        np.full(len(subscriptions.trial_site), vocabulary.index(_TRIAL_START), dtype=np.int32),
    ])

    site = np.concatenate([site, extra_site])
    ts_us = np.concatenate([ts_us, extra_ts])
    name = np.concatenate([name, extra_name])
    user_only = np.concatenate([user_only, np.zeros(len(extra_site), dtype=bool)])

    order = _order_by_timestamp(ts_us)
    return _Events(site=site[order], user_only=user_only[order], name=name[order], ts_us=ts_us[order])


def _draw_event_names(
    rng: np.random.Generator,
    sites: _Population,
    site: np.ndarray,
    vocabulary: _EventVocabulary,
    cover_vocabulary: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a name per event: user-only, intent (more likely for a high z) or a Zipf-ranked product event.

    Returns the name indices and a mask of the user-only events.
    """
    n_events = len(site)
    rank = np.searchsorted(vocabulary.rank_cdf, rng.random(n_events), side="right")
    np.minimum(rank, vocabulary.n_general - 1, out=rank)
    name = vocabulary.segment_names[sites.segment[site], rank]
    del rank

    kind = rng.random(n_events)
    intent_p = _INTENT_MAX_SHARE * _sigmoid(_INTENT_LOGIT_A0 + _INTENT_LOGIT_A1 * sites.z)
    is_user = kind < _USER_EVENT_P
    is_intent = ~is_user & (kind < _USER_EVENT_P + (1 - _USER_EVENT_P) * intent_p[site])
    del kind

    if cover_vocabulary:
        product_events = np.flatnonzero(~is_user & ~is_intent)
        n_covered = min(vocabulary.n_general, len(product_events))
        covered = rng.choice(product_events, size=n_covered, replace=False)
        name[covered] = rng.permutation(vocabulary.n_general)[:n_covered]

    n_intent = int(is_intent.sum())
    name[is_intent] = vocabulary.intent[_draw_categorical(rng, vocabulary.intent_p, n_intent)]
    n_user = int(is_user.sum())
    name[is_user] = vocabulary.user[_draw_categorical(rng, vocabulary.user_p, n_user)]
    return name, is_user


def _order_by_timestamp(ts_us: np.ndarray) -> np.ndarray:
    """Return the permutation that sorts ts_us, breaking ties by position.

    np.argsort of tens of millions of int64 is several times slower than np.sort,
    so this sorts one int64 key that packs the millisecond offset from
    HISTORY_START (35 bits) above the position (28 bits).
    """
    position_bits = 28
    if len(ts_us) >= 1 << position_bits:
        raise ValueError(f"{len(ts_us)} events in one chunk exceed the sort key's {1 << position_bits}")
    key = (ts_us - _START_US) // _US_PER_MS
    key <<= position_bits
    key |= np.arange(len(ts_us), dtype=np.int64)
    key.sort()
    key &= (1 << position_bits) - 1
    return key


# --- Traffic ------------------------------------------------------------------


@dataclass
class _Traffic:
    """Traffic rows of one chunk, sorted by site and day."""

    site: np.ndarray
    day: np.ndarray  # days since HISTORY_START
    views: np.ndarray
    visitors: np.ndarray


def _draw_traffic(rng: np.random.Generator, sites: _Population, events: _Events) -> _Traffic:
    """Draw views and visitors for each (site, day) with at least one site event."""
    n = len(sites.z)
    site_events = ~events.user_only
    day = (events.ts_us[site_events] - _START_US) // _US_PER_DAY
    key = events.site[site_events].astype(np.int64) * _HISTORY_DAYS + day
    del day
    key, events_that_day = np.unique(key, return_counts=True)
    site = (key // _HISTORY_DAYS).astype(np.int32)
    day = (key % _HISTORY_DAYS).astype(np.int32)
    del key

    site_effect = rng.normal(0, _VIEWS_SITE_SD, n)
    visitor_share = rng.beta(5, 3, n)
    log_views = (
        _VIEWS_LOG_MEAN
        + _VIEWS_Z_SLOPE * sites.z[site]
        + site_effect[site]
        + _VIEWS_EVENTS_SLOPE * np.log(events_that_day)
        + rng.normal(0, _VIEWS_DAY_SD, len(site))
    )
    views = np.ceil(np.exp(np.minimum(log_views, np.log(_VIEWS_MAX)))).astype(np.int64)
    visitors = 1 + rng.binomial(views - 1, visitor_share[site])
    return _Traffic(site=site, day=day, views=views, visitors=visitors)


# --- Arrow tables -------------------------------------------------------------


def _timestamps(values_us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(values_us, type=pa.timestamp("us"), mask=null)


def _codes(codes: np.ndarray, dictionary: np.ndarray) -> pa.DictionaryArray:
    indices = pa.array(codes, type=pa.int16(), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(dictionary.tolist(), type=pa.string()))


def _sites_table(population: _Population) -> pa.Table:
    return pa.table({
        "site_id": population.site_ids,
        "user_id": population.site_user_index + 1,
        "created_at": _timestamps(population.site_created_us),
        "lang": _codes(population.site_lang, _LANG_CODES),
        "country": _codes(population.site_country, _COUNTRY_CODES),
    })


def _users_table(population: _Population) -> pa.Table:
    return pa.table({
        "user_id": np.arange(1, len(population.user_created_us) + 1, dtype=np.int64),
        "created_at": _timestamps(population.user_created_us),
        "lang": _codes(population.user_lang, _LANG_CODES),
        "country": _codes(population.user_country, _COUNTRY_CODES),
    })


def _truth_table(population: _Population) -> pa.Table:
    return pa.table({"site_id": population.site_ids, "propensity": population.propensity})


def _subscriptions_table(sites: _Population, subscriptions: _Subscriptions) -> pa.Table:
    product = subscriptions.product.astype(np.int8)
    products = pa.array(_PRODUCTS, type=pa.string())
    return pa.table({
        "site_id": sites.site_ids[subscriptions.site],
        "user_id": sites.site_user_index[subscriptions.site] + 1,
        "product": pa.DictionaryArray.from_arrays(pa.array(product), products),
        "is_paid": product < len(_PAID_PRODUCTS),
        "started_at": _timestamps(subscriptions.started_us),
        "ended_at": _timestamps(subscriptions.ended_us, null=subscriptions.ended_us < 0),
    })


def _events_table(sites: _Population, events: _Events, vocabulary: _EventVocabulary) -> pa.Table:
    names = pa.array(vocabulary.names, type=pa.string())
    return pa.table({
        "site_id": pa.array(sites.first_site_id + events.site.astype(np.int64), mask=events.user_only),
        "user_id": sites.site_user_index[events.site] + 1,
        "event": pa.DictionaryArray.from_arrays(pa.array(events.name), names),
        "ts": _timestamps(events.ts_us),
    })


def _traffic_table(sites: _Population, traffic: _Traffic) -> pa.Table:
    return pa.table({
        "site_id": sites.site_ids[traffic.site],
        "day": pa.array(traffic.day + _START_EPOCH_DAY).cast(pa.date32()),
        "views": traffic.views,
        "visitors": traffic.visitors,
    })
