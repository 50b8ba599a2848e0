"""The multitask batch iterator: cycling streams, seeded draws, exact resume."""

import pytest
from helpers import build_components


def make_iterator(task, batch_size=8):
    task.load_dataset("train")
    return task.get_batch_iterator(
        task.dataset("train"),
        max_sentences=batch_size,
        max_positions=(1024, 1024),
        seed=3,
        disable_iterator_cache=True,
    )


def fingerprint(batch):
    """Which tasks an update drew and which sentences each batch holds."""
    return {task: sample["id"].tolist() for task, sample in batch.items()}


def run_updates(itr, n):
    out = []
    while len(out) < n:
        epoch = itr.next_epoch_itr(shuffle=True)
        for batch in epoch:
            out.append((itr.epoch, fingerprint(batch)))
            if len(out) == n:
                break
    return out


@pytest.mark.parametrize("schedule", ["uniform", "biased", "sigmoid", "exponential"])
def test_resume_mid_epoch_replays_the_same_draws_and_batches(tiny_data, schedule):
    args = ["--aux-tasks", "pos", "--schedule", schedule, "--seed", "3"]
    task, _, _, _ = build_components(tiny_data, args)
    straight = run_updates(make_iterator(task), 40)

    task, _, _, _ = build_components(tiny_data, args)
    itr = make_iterator(task)
    first = run_updates(itr, 17)
    state = itr.state_dict()
    task, _, _, _ = build_components(tiny_data, args)
    resumed_itr = make_iterator(task)
    resumed_itr.load_state_dict(state)
    rest = run_updates(resumed_itr, 23)
    assert first + rest == straight


def test_epoch_is_one_pass_over_the_main_task(tiny_data):
    task, _, _, _ = build_components(
        tiny_data, ["--aux-tasks", "pos", "--schedule", "biased"]
    )
    itr = make_iterator(task)
    seen, aux_batches = [], 0
    for batch in itr.next_epoch_itr(shuffle=True):
        seen += batch["translation"]["id"].tolist()
        aux_batches += "pos" in batch
    assert sorted(seen) == list(range(200))  # every main sentence once
    assert aux_batches == len(itr) == 25


def test_shorter_streams_cycle(tiny_data):
    # pos has 300 sentences = 38 batches of 8 (one of 4); 3 uniform epochs of
    # 25 updates need 75 of them, so pos starts a second pass at update 39
    task, _, _, _ = build_components(tiny_data, ["--aux-tasks", "pos"])
    itr = make_iterator(task)
    updates = run_updates(itr, 75)
    first_pass = [i for _, b in updates[:38] for i in b["pos"]]
    assert sorted(first_pass) == list(range(300))
    assert all(len(b["pos"]) in (4, 8) for _, b in updates[38:])


def test_different_seeds_draw_differently(tiny_data):
    draws = []
    for seed in ("1", "2"):
        task, _, _, _ = build_components(
            tiny_data, ["--aux-tasks", "pos", "--schedule", "constant", "--seed", seed]
        )
        itr = make_iterator(task)
        draws.append([itr.draw(1, i) for i in range(50)])
    assert draws[0] != draws[1]
