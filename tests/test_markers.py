"""The [n] citation markers: one pattern read the same way by every module."""

from assistant.markers import MARKER_RUN, cited_numbers, without_markers


def test_cited_numbers_keep_order_and_drop_repeats() -> None:
    assert cited_numbers("900 troops [2] in Syria [1], 2,500 in Iraq [2].") == [2, 1]
    assert cited_numbers("No markers here, not even [a].") == []


def test_without_markers_replaces_each_marker() -> None:
    assert without_markers("900 [1] and 2,500 [12].") == "900   and 2,500  ."
    assert without_markers("900[1].", "") == "900."


def test_a_run_of_markers_is_one_match_with_its_spaces() -> None:
    runs = [m.group(0) for m in MARKER_RUN.finditer("It rose [1] [3][4]. Then fell [2].")]
    assert runs == [" [1] [3][4]", " [2]"]
