def test_a_utc_offset_postgres_cannot_store_still_filters(tenant, staff_api):
    # +19:05 is a valid ISO 8601 offset for Python but beyond PostgreSQL's ±15:59: it must be converted first.
    response = staff_api.get("/api/v1/conversions/", {"occurred_from": "2026-01-01T10:00:00+19:05"})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_date_time_beyond_year_9999_in_utc_is_a_400_naming_the_filter(tenant, staff_api):
    response = staff_api.get("/api/v1/conversions/", {"occurred_to": "9999-12-31T23:00:00-10:00"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["occurred_at"]
