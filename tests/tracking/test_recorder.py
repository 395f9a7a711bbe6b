"""Group commit of clicks (tracking/recorder.py): batching, durability before return, failures, broken cache."""

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import DatabaseError, connection
from django.test import Client, override_settings

from tests.tracking.factories import BROWSER_UA, link_for
from tracking import clicks, recorder
from tracking.models import Click

BROKEN_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                            "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens on port 1


def _row(click_id: str) -> list:
    return [1, click_id, None, 1, 1, 1, "", "", "", "", "", "", "", "", "desktop", "", "", "", [], [], True, True]


def test_requests_in_flight_share_one_batch_and_return_after_the_write():
    written: list[list[str]] = []
    gate = threading.Event()
    in_write = threading.Event()

    def write(rows):
        in_write.set()
        gate.wait(5)  # the first batch is held until every other request has queued behind it
        written.append([row[1] for row in rows])

    writer = recorder.GroupCommitRecorder(write=write, screen=lambda claims: [None] * len(claims))
    returned: list[str] = []
    threads = [threading.Thread(target=lambda n=n: (writer.record(_row(f"c{n}")), returned.append(f"c{n}")))
               for n in range(10)]
    threads[0].start()
    assert in_write.wait(5)
    for thread in threads[1:]:
        thread.start()
    while len(writer._queue) < 9:  # every other request is queued behind the held batch
        threading.Event().wait(0.01)
    assert returned == []  # nobody answers before its batch is written
    gate.set()
    for thread in threads:
        thread.join(5)
    assert sorted(returned) == sorted(f"c{n}" for n in range(10))
    assert sum(len(batch) for batch in written) == 10
    assert writer.batches < 10  # rows queued behind the first batch went out together


def test_a_failed_row_fails_alone_and_its_batch_mates_are_stored():
    stored: list[str] = []

    def write(rows):
        if any(row[1] == "bad" for row in rows):
            raise DatabaseError("foreign key violation")
        stored.extend(row[1] for row in rows)

    writer = recorder.GroupCommitRecorder(write=write, screen=lambda claims: [None] * len(claims))
    outcomes: dict[str, str] = {}

    def send(click_id: str) -> None:
        try:
            writer.record(_row(click_id))
            outcomes[click_id] = "stored"
        except recorder.ClickNotRecorded:
            outcomes[click_id] = "refused"

    threads = [threading.Thread(target=send, args=(click_id,)) for click_id in ("a", "bad", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert outcomes == {"a": "stored", "bad": "refused", "b": "stored", "c": "stored"}
    assert sorted(stored) == ["a", "b", "c"]


def test_a_row_not_taken_in_time_is_withdrawn_and_never_stored():
    stored: list[str] = []
    first_taken = threading.Event()
    release = threading.Event()

    def write(rows):
        first_taken.set()
        release.wait(5)
        stored.extend(row[1] for row in rows)

    writer = recorder.GroupCommitRecorder(write=write, screen=lambda claims: [None] * len(claims),
                                          wait_seconds=0.2)
    blocker = threading.Thread(target=lambda: writer.record(_row("first")))
    blocker.start()
    assert first_taken.wait(5)
    with pytest.raises(recorder.ClickNotRecorded):
        writer.record(_row("late"))  # queued behind a stuck batch: withdrawn after 0.2 s
    release.set()
    blocker.join(5)
    writer.record(_row("after"))
    assert stored == ["first", "after"]


def test_duplicates_found_by_the_batch_screen_are_marked():
    writer = recorder.GroupCommitRecorder(write=lambda rows: None,
                                          screen=lambda claims: ["orig" if key == "k2" else None
                                                                 for key, _, _ in claims])
    row = _row("new")
    assert writer.record(row, ("k2", "new", 60)) == "orig"
    assert (row[recorder.FLAGS], row[recorder.UNIQUE], row[recorder.ATTRIBUTABLE]) == (["duplicate"], False, False)
    assert writer.record(_row("x"), ("k1", "x", 60)) is None


def test_in_process_duplicate_table_when_the_cache_is_down():
    key = "trk:dup:test:visitor"
    with override_settings(CACHES=BROKEN_REDIS):
        from django.core.cache import caches

        caches._settings = None  # pick up the overridden backend
        assert clicks.claim_first_clicks([(key, "first", 60)]) == [None]
        assert clicks.claim_first_clicks([(key, "second", 60)]) == ["first"]
        clicks.release_first_click(key=key, click_id="first")
        assert clicks.claim_first_clicks([(key, "third", 60)]) == [None]


@pytest.mark.django_db
def test_click_works_with_a_broken_cache_backend(tenant, settings):
    from django.core import cache as cache_module

    link = link_for(tenant)
    settings.CACHES = BROKEN_REDIS
    broken = cache_module.caches.create_connection("default")
    original = clicks.cache
    clicks.cache = broken  # the module's handle on the default cache, now pointing at a dead Redis
    try:
        clicks.clear_link_cache()
        first = Client().get(f"/c/{link.code}", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="81.2.69.142")
        second = Client().get(f"/c/{link.code}", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="81.2.69.142")
    finally:
        clicks.cache = original
    assert first.status_code == second.status_code == 302
    first_id = parse_qs(urlsplit(first["Location"]).query)["aff_click"][0]
    # The duplicate is still detected (in-process table) and carries the first click's id.
    assert parse_qs(urlsplit(second["Location"]).query)["aff_click"][0] == first_id
    assert Click.objects.count() == 2
    assert Click.objects.filter(is_unique=True).get().click_id == first_id


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and the writer thread's own connection need PostgreSQL")
def test_copy_path_commits_rows_from_concurrent_clicks(tenant, settings):
    settings.TRACKING_GROUP_COMMIT_IN_TESTS = True
    link = link_for(tenant)
    Click.objects.all().delete()
    writer = recorder.GroupCommitRecorder()
    from django.utils import timezone

    def send(n: int) -> None:
        row = [link.network_id, f"pg-{n:04d}", timezone.now(), link.pk, link.program_id, link.affiliate_id,
               "s1", "", "", "", "", "https://shop.example.com/", "", "ua", "desktop", "GB", "ip", f"v{n}",
               ["gclid"], [], True, True]
        writer.record(row)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert Click.objects.filter(click_id__startswith="pg-").count() == 40
    assert Click.objects.get(click_id="pg-0007").paid_click_params == ["gclid"]
    assert writer.rows == 40
    assert writer.batches <= 40
