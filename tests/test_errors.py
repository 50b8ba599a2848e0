"""Bad input fails early with a message naming the flag or file at fault."""

import shutil

import pytest
from helpers import build_components


@pytest.fixture()
def data_copy(tiny_data, tmp_path):
    target = tmp_path / "bin"
    shutil.copytree(tiny_data, target)
    return target


def test_unknown_main_task(tiny_data):
    with pytest.raises(FileNotFoundError, match="--main-task nmt: task folder .*nmt"):
        build_components(tiny_data, ["--main-task", "nmt"])


def test_unknown_aux_task(tiny_data):
    with pytest.raises(FileNotFoundError, match="--aux-tasks ner: task folder .*ner"):
        build_components(tiny_data, ["--aux-tasks", "pos,ner"])


def test_missing_split_names_the_file(data_copy):
    for f in (data_copy / "translation").glob("valid.*"):
        f.unlink()
    task, _, _, _ = build_components(data_copy, ["--aux-tasks", "pos"])
    with pytest.raises(
        FileNotFoundError, match=r"split 'valid' is missing .*valid\.en-xx\.en\.idx"
    ):
        task.load_dataset("valid")


def test_aiw_without_meta_valid_names_the_file(data_copy):
    for f in (data_copy / "translation").glob("meta_valid.*"):
        f.unlink()
    task, _, _, _ = build_components(data_copy, ["--aux-tasks", "pos", "--aiw"])
    with pytest.raises(FileNotFoundError, match=r"meta_valid\.en-xx\.en\.idx"):
        task.load_dataset("train")


def test_dictionary_mismatch_names_both_files(data_copy):
    path = data_copy / "pos" / "dict.pos.txt"
    path.write_text(path.read_text() + "extra_symbol 1\n")
    with pytest.raises(
        ValueError,
        match=r"dictionary mismatch: .*pos/dict\.pos\.txt differs from .*dict\.en\.txt",
    ):
        build_components(data_copy, ["--aux-tasks", "pos"])


def test_schedule_needing_aux_tasks_given_none(tiny_data):
    with pytest.raises(
        ValueError, match="--schedule biased needs at least one auxiliary task"
    ):
        build_components(tiny_data, ["--schedule", "biased"])


def test_unknown_schedule(tiny_data):
    with pytest.raises(ValueError, match="--schedule 'round_robin' is unknown"):
        build_components(tiny_data, ["--aux-tasks", "pos", "--schedule", "round_robin"])


def test_generation_subset_for_unknown_task(tiny_data):
    task, _, _, _ = build_components(tiny_data, ["--aux-tasks", "pos"])
    with pytest.raises(ValueError, match="subset 'ner:test' names task 'ner'"):
        task.load_dataset("ner:test")


def test_unknown_aiw_mode(tiny_data):
    with pytest.raises(ValueError, match="--aiw-mode 'slow' is unknown"):
        build_components(
            tiny_data, ["--aux-tasks", "pos", "--aiw", "--aiw-mode", "slow"]
        )
