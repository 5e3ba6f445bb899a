"""Span decoding: best start <= end within a maximum length, offsets back to characters."""
import numpy as np

from qa.reader.decode import best_spans, char_span


def test_best_span_respects_order_and_length():
    start = np.array([0.0, 1.0, 9.0, 0.0, 0.0, 0.0])
    end = np.array([8.0, 0.0, 0.0, 2.0, 0.0, 7.0])
    # the best start (2) comes after the best end (0): the decoder may not pair them
    best = best_spans(start, end, 1, 5, max_tokens=10)[0]
    assert (best.start, best.end) == (2, 5) and best.score == 16.0
    # within 2 tokens the far end (5) is out of reach
    best = best_spans(start, end, 1, 5, max_tokens=2)[0]
    assert (best.start, best.end) == (2, 3) and best.score == 11.0


def test_length_penalty_prefers_the_shorter_of_two_close_spans():
    start = np.array([0.0, 5.0, 0.0, 0.0, 0.0])
    end = np.array([0.0, 0.0, 4.0, 0.0, 4.5])
    assert (best_spans(start, end, 1, 4, max_tokens=10)[0].end) == 4
    short = best_spans(start, end, 1, 4, max_tokens=10, length_penalty=0.5)[0]
    assert (short.start, short.end) == (1, 2) and short.score == 8.5


def test_spans_stay_inside_the_passage_and_come_best_first():
    start = np.array([50.0, 3.0, 1.0, 2.0, -40.0])
    end = np.array([50.0, 1.0, 4.0, 2.0, 60.0])
    spans = best_spans(start, end, 1, 3, max_tokens=5, top=4)
    assert all(1 <= s.start <= s.end <= 3 for s in spans)
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    assert (spans[0].start, spans[0].end) == (1, 2)
    assert best_spans(start, end, 3, 2, max_tokens=5) == []


def test_char_span_maps_tokens_to_characters():
    text = "制造业PMI为50.6%。"
    starts, ends = (0, 3, 6, 7, 11), (3, 6, 7, 11, 12)  # 制造业|PMI|为|50.6|%
    a, b = char_span(3, 4, starts, ends)
    assert text[a:b] == "50.6%"
