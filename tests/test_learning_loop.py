"""Golden sequences through the real graph with the fake clock: same-session re-asks, the daily
review cap, and no verbatim repeat of a question until its topic's questions are exhausted."""

from agents.check import PER_TOPIC

LEARNER = "cli:ann"


async def _send(tutor, text: str) -> list:
    return [e async for e in tutor.send(LEARNER, text)]


def _question(events: list) -> dict:
    return next(e for e in events if e.kind == "question").data


def _grade(events: list) -> dict:
    return next(e for e in events if e.kind == "grade").data["grade"]


async def _pass(tutor, question: dict) -> list:
    """Answer with the question's own reference answer, which must pass."""
    events = await _send(tutor, question["reference_answer"])
    assert _grade(events)["score"] >= 60
    return events


async def test_check_reasks_a_failed_item_near_the_end_once(open_test_tutor):
    async with open_test_tutor() as tutor:
        first = _question(await _send(tutor, "/check"))
        failed = await _send(tutor, "no idea")
        assert _grade(failed)["score"] == 0
        assert [e.kind for e in failed] == ["grade", "notice", "question"]
        assert "come back to" in failed[1].text
        second = _question(failed)
        assert second["note_id"] != first["note_id"]  # not straight away
        assert second["position"] == "2/11"  # the plan grew by the re-ask
        asked = [first, second]
        for _ in range(9):
            asked.append(_question(await _send(tutor, "skip")))
        reask = asked[-1]
        assert reask["position"] == "11/11" and reask.get("reask") is True
        assert reask["note_id"] == first["note_id"]
        assert reask["question_id"] != first["question_id"]  # another question on the topic
        assert not reask["is_review"]
        assert all(not q.get("reask") for q in asked[:-1])
        again = await _send(tutor, "no idea")  # failed twice: no second re-ask, the check ends
        assert [e.kind for e in again] == ["grade", "summary"]
        rows = again[-1].data["summary"]["rows"]
        assert [r["note_id"] for r in rows] == [first["note_id"]] * 2
        # Its grade went through the scheduler like any other: the card comes back within a day.
        card = next(c for c in tutor.deps.store.cards(tutor.learner_id(LEARNER))
                    if c.note_id == first["note_id"])
        assert card.reviews == 2 and card.last_score == 0


async def test_quiz_me_reasks_after_two_other_questions_and_not_twice(open_test_tutor):
    async with open_test_tutor() as tutor:
        failed = _question(await _send(tutor, "quiz me on regularization"))
        assert _grade(await _send(tutor, "no idea"))["score"] < 60
        other = _question(await _send(tutor, "quiz me"))  # one question since: too soon
        assert other["note_id"] != "regularization" and not other.get("reask")
        await _pass(tutor, other)
        more = _question(await _send(tutor, "quiz me"))
        assert more["note_id"] != "regularization"
        await _pass(tutor, more)
        events = await _send(tutor, "quiz me")  # two others since the failure: its turn
        reask = _question(events)
        assert reask["note_id"] == "regularization" and reask.get("reask") is True
        assert reask["question_id"] != failed["question_id"]
        assert any(e.kind == "notice" and "missed it earlier" in e.text for e in events)
        assert _grade(await _send(tutor, "no idea"))["score"] < 60
        for _ in range(3):  # failed again: left to the scheduler, not re-asked nor continued
            q = _question(await _send(tutor, "quiz me"))
            assert q["note_id"] != "regularization" and not q.get("reask")
            await _pass(tutor, q)


async def test_daily_review_cap_stops_reviews_and_resets_next_day(open_test_tutor, settings,
                                                                   clock):
    settings.daily_review_cap = 2
    async with open_test_tutor() as tutor:
        assert tutor.deps.daily_review_cap == 2
        learner = tutor.learner_id(LEARNER)
        for note_id in ("regularization", "optimizers", "k-means", "bias-variance"):
            tutor.deps.store.review(learner, note_id, 50, clock())
        clock.advance(days=1, hours=1)  # all four due now
        for _ in range(2):
            review = _question(await _send(tutor, "/review"))
            assert review["is_review"]
            await _pass(tutor, review)
        capped = await _send(tutor, "/review")  # the cap + 1-th: no review
        assert not any(e.kind == "question" for e in capped)
        assert "That's today's 2 review questions" in capped[0].text
        assert not _question(await _send(tutor, "quiz me"))["is_review"]
        check = await _send(tutor, "/check")  # leaves the pending question; no reviews
        start = next(e for e in check if "Knowledge check" in e.text)
        assert "3 on what you're studying, 7 new, 0 review" in start.text
        assert "review cap (2) is reached" in start.text
        clock.advance(days=1)  # a new UTC day: reviews again
        await _send(tutor, "summary")  # ends the check
        assert _question(await _send(tutor, "quiz me"))["is_review"]


async def test_no_verbatim_repeat_until_the_topic_is_exhausted(open_test_tutor, clock):
    async with open_test_tutor() as tutor:
        bank = [q.id for q in tutor.deps.catalog.note("regularization").questions]
        asked = []
        for i in range(len(bank) + 2):
            question = _question(await _send(tutor, "quiz me on regularization"))
            asked.append(question["question_id"])
            await _send(tutor, "dropout randomly zeroes units during training")
            if i == 1:
                clock.advance(hours=5)  # a new session: the history still holds
        assert sorted(asked[:len(bank)]) == sorted(bank)  # every question once …
        assert asked[len(bank):] == asked[:2]  # … then the least recently asked come back


async def test_a_run_of_quiz_me_mixes_reviews_and_todays_topics_like_a_check(open_test_tutor,
                                                                             clock):
    async with open_test_tutor() as tutor:
        learner = tutor.learner_id(LEARNER)
        for note_id in ("regularization", "optimizers", "k-means", "bias-variance"):
            tutor.deps.store.review(learner, note_id, 50, clock())
        clock.advance(days=1, hours=1)  # all four due now
        await _send(tutor, "teach me gradient descent")
        asked = []
        for _ in range(10):
            question = _question(await _send(tutor, "quiz me"))
            asked.append(("review" if question["is_review"] else "", question["note_id"]))
            await _pass(tutor, question)
        # About 30% reviews, the first question among them, spread out; the lesson's topic gets
        # PER_TOPIC questions, then a new topic, which becomes the one being studied.
        kinds = [k for k, _ in asked]
        assert kinds.count("review") == 3 and kinds[0] == "review"
        assert [i for i, k in enumerate(kinds) if k] == [0, 3, 6]
        studied = [n for k, n in asked if not k]
        assert studied[:PER_TOPIC] == ["gradient-descent"] * PER_TOPIC
        new = studied[PER_TOPIC]
        assert new != "gradient-descent" and studied[PER_TOPIC:2 * PER_TOPIC] == [new] * PER_TOPIC
        assert studied[2 * PER_TOPIC] not in {new, "gradient-descent"}
        assert len({n for k, n in asked if k}) == 3  # three different due topics
