import pytest

from zaphooks import filters


def test_there_are_26_events():
    assert len(set(filters.EVENTS)) == 26


def test_a_key_that_does_not_fit_the_event_is_a_problem():
    assert "list" in filters.filter_problems("assign_tag", {"list": "Newsletter"})


def test_reaches_score_needs_a_positive_integer_score():
    assert "score" in filters.filter_problems("reaches_score", {})
    assert "score" in filters.filter_problems("reaches_score", {"score": 0})
    assert "score" in filters.filter_problems("reaches_score", {"score": "ten"})
    assert filters.filter_problems("reaches_score", {"score": "50"}) == {}


@pytest.mark.parametrize("score", ["²", "١", 2**53, "9" * 30, True])
def test_reaches_score_refuses_unicode_digits_and_scores_past_the_maximum(score):
    assert "score" in filters.filter_problems("reaches_score", {"score": score})


def test_a_child_key_needs_its_parent():
    assert "class" in filters.filter_problems("calendar_subscribe", {"class": "Intro call"})
    assert filters.filter_problems("calendar_subscribe", {"calendar": "Coaching", "class": "Intro call"}) == {}


def test_resolve_passes_the_parent_id_to_the_child():
    seen = []

    def resolve(key, ref, parent):
        seen.append((key, ref, parent))
        return {"product": 7, "price_point": 2}[key]

    assert filters.filter_resolve("buy_product", {"price_point": "2", "product": "Course"}, resolve) == {
        "product": 7,
        "price_point": 2,
    }
    assert seen == [("product", "Course", None), ("price_point", "2", 7)]


def test_matches_an_asset_id_anywhere_in_the_details():
    details = {"calendar": {"calendar_id": 3, "class_id": 9, "hosts": [{"host_email_address": "a@b.c"}]}}
    assert filters.filter_matches({"calendar": 3, "class": 9}, details)
    assert not filters.filter_matches({"calendar": 3, "class": 8}, details)


def test_an_empty_filter_matches_everything():
    assert filters.filter_matches({}, {"tag": {"tag_id": 1}})


def test_score_matching_is_delegated():
    assert filters.filter_matches({"score": 50}, {"new_peak": 50}, score_matches=lambda d, s: d["new_peak"] >= s)
    assert not filters.filter_matches({"score": 50}, {"new_peak": 40}, score_matches=lambda d, s: d["new_peak"] >= s)
