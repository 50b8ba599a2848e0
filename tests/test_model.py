"""Partial sharing: which parameters are one object, and what an update moves."""

import pytest
import torch
from helpers import build_components

from fairseq_aiw.model import shared_layer_ids


@pytest.mark.parametrize(
    "layers, shared, side, expected",
    [
        (3, 1, "top", [2]),
        (3, 2, "bottom", [0, 1]),
        (3, 0, "top", []),
        (2, 2, "top", [0, 1]),
    ],
)
def test_shared_layer_ids(layers, shared, side, expected):
    assert shared_layer_ids(layers, shared, side) == expected


def test_more_shared_layers_than_layers_is_an_error(tiny_data):
    with pytest.raises(ValueError, match="cannot share 4 of 2 layers"):
        build_components(
            tiny_data, ["--aux-tasks", "pos", "--shared-encoder-layers", "4"]
        )


def encoder_layer(model, task, i):
    return model.models[task].encoder.layers[i]


def decoder_layer(model, task, i):
    return model.models[task].decoder.layers[i]


def test_paper_sharing_top_encoder_bottom_decoder(tiny_data):
    _, model, _, _ = build_components(
        tiny_data,
        [
            "--aux-tasks",
            "pos",
            "--encoder-layers",
            "3",
            "--decoder-layers",
            "3",
            "--shared-encoder-layers",
            "1",
            "--shared-decoder-layers",
            "2",
        ],
    )
    same = [
        encoder_layer(model, "translation", i) is encoder_layer(model, "pos", i)
        for i in range(3)
    ]
    assert same == [False, False, True]
    same = [
        decoder_layer(model, "translation", i) is decoder_layer(model, "pos", i)
        for i in range(3)
    ]
    assert same == [True, True, False]
    mt, pos = model.models["translation"], model.models["pos"]
    assert mt.decoder.attention is not pos.decoder.attention
    assert mt.encoder.embed_tokens is not pos.encoder.embed_tokens
    # a shared layer is counted once
    unique = {id(p) for p in model.parameters()}
    assert len(unique) == len(list(model.parameters()))


def test_sharing_flags_for_embeddings_attention_output(tiny_data):
    _, model, _, _ = build_components(
        tiny_data,
        [
            "--aux-tasks",
            "pos",
            "--share-embeddings",
            "--share-attention",
            "--share-output-projection",
            "--shared-encoder-layers",
            "2",
            "--share-encoder-from",
            "bottom",
        ],
    )
    mt, pos = model.models["translation"], model.models["pos"]
    assert mt.encoder.embed_tokens is pos.encoder.embed_tokens
    assert mt.decoder.embed_tokens is pos.decoder.embed_tokens
    assert mt.decoder.attention is pos.decoder.attention
    assert mt.decoder.output_projection is pos.decoder.output_projection
    assert all(
        encoder_layer(model, "translation", i) is encoder_layer(model, "pos", i)
        for i in range(2)
    )


def test_aux_update_moves_shared_layers_and_not_main_private_ones(tiny_data):
    task, model, criterion, _ = build_components(tiny_data, ["--aux-tasks", "pos"])
    task.load_dataset("train")
    itr = task.get_batch_iterator(
        task.dataset("train"), max_sentences=8, max_positions=(1024, 1024)
    ).next_epoch_itr(shuffle=False)
    batch = next(itr)["pos"]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    loss, _, _ = criterion(model, batch)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    shared = set(model.shared_parameter_names())
    main_private = {
        n
        for n, p in model.named_parameters()
        if n.startswith("models.translation.") and n not in shared
    }
    assert shared and shared <= moved
    assert not (main_private & moved)
    assert any(n.startswith("models.pos.") for n in moved - shared)


def test_incremental_decoding_matches_full_forward(tiny_data):
    _, model, _, _ = build_components(tiny_data, ["--aux-tasks", "pos"])
    model.eval()
    sub = model.models["translation"]
    src = torch.tensor([[5, 6, 7, 2], [8, 9, 2, 1]])
    lengths = torch.tensor([4, 3])
    prev = torch.tensor([[2, 10, 11, 12], [2, 13, 14, 15]])
    with torch.no_grad():
        full, _ = sub(src, lengths, prev)
        enc = sub.encoder(src, lengths)
        state = {}
        steps = [
            sub.decoder(prev[:, : t + 1], enc, incremental_state=state)[0]
            for t in range(prev.size(1))
        ]
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)
