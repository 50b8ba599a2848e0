"""Partially shared multitask LSTM encoder-decoder (``--arch aiw_lstm_*``).

Every task (translation, NER, parsing, ...) has its own stacked-LSTM encoder and
decoder with attention. Sharing is decided per layer: with the paper's En-Vi
setting the *top* encoder layer and the *bottom two* decoder layers are one set
of parameters used by all tasks, the other layers are private to each task.
Embeddings, attention and the output projection are private unless a flag
shares them. A shared layer is a single ``nn.Module`` reachable from every
task's stack, so ``model.parameters()`` lists it once and every task's update
moves it.

Design choices that differ from the authors' OpenNMT code (see README):

* the encoder is bidirectional unless ``--encoder-unidirectional``; each
  direction has ``hidden_size / 2`` units so every layer outputs ``hidden_size``;
* the decoder has no input feeding: each LSTM layer runs over the whole target
  sequence at once, followed by global (Luong "general") attention on the top
  layer. This keeps every LSTM call a single fused kernel, which the fast AIW
  mode relies on, and makes training several times faster on CPU;
* each layer is its own one-layer ``nn.LSTM`` and dropout between layers is
  applied outside the kernel, so a forward pass can be replayed with the same
  dropout masks by reseeding the global generator.
"""

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from fairseq import utils
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.models import (
    BaseFairseqModel,
    FairseqEncoder,
    FairseqEncoderDecoderModel,
    FairseqIncrementalDecoder,
    register_model,
    register_model_architecture,
)
from omegaconf import II, open_dict
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

logger = logging.getLogger(__name__)

SHARE_FROM = ChoiceEnum(["top", "bottom"])


@dataclass
class AIWLSTMConfig(FairseqDataclass):
    embed_dim: int = field(default=512, metadata={"help": "token embedding size"})
    hidden_size: int = field(
        default=512, metadata={"help": "output size of every LSTM layer"}
    )
    encoder_layers: int = field(
        default=3, metadata={"help": "LSTM layers in each task's encoder"}
    )
    decoder_layers: int = field(
        default=3, metadata={"help": "LSTM layers in each task's decoder"}
    )
    encoder_unidirectional: bool = field(
        default=False,
        metadata={
            "help": "left-to-right encoder layers, as the authors' code; by "
            "default each layer is bidirectional with hidden_size/2 per direction"
        },
    )
    shared_encoder_layers: int = field(
        default=1,
        metadata={"help": "encoder layers shared by all tasks (0 = none shared)"},
    )
    shared_decoder_layers: int = field(
        default=2,
        metadata={"help": "decoder layers shared by all tasks (0 = none shared)"},
    )
    share_encoder_from: SHARE_FROM = field(  # type: ignore[valid-type]
        default="top", metadata={"help": "shared encoder layers sit at the top/bottom"}
    )
    share_decoder_from: SHARE_FROM = field(  # type: ignore[valid-type]
        default="bottom",
        metadata={"help": "shared decoder layers sit at the top/bottom"},
    )
    share_embeddings: bool = field(
        default=False,
        metadata={"help": "one source and one target embedding table for all tasks"},
    )
    share_attention: bool = field(
        default=False, metadata={"help": "one attention module for all tasks"}
    )
    share_output_projection: bool = field(
        default=False, metadata={"help": "one output projection for all tasks"}
    )
    dropout: float = field(
        default=0.3,
        metadata={"help": "dropout on embeddings, between layers and after attention"},
    )
    max_source_positions: int = II("task.max_source_positions")
    max_target_positions: int = II("task.max_target_positions")
    model_tasks: str = field(
        default="",
        metadata={
            "help": "comma-separated task names, main task first; filled in by "
            "--task aiw_mtl when the model is first built and kept in checkpoints"
        },
    )


def shared_layer_ids(num_layers: int, num_shared: int, share_from: str) -> List[int]:
    """Indices (0 = bottom) of the layers shared across tasks.

    Args:
        num_layers: layers in the stack.
        num_shared: how many of them are shared.
        share_from: ``"top"`` or ``"bottom"``.

    Returns:
        Sorted layer indices.
    """
    if not 0 <= num_shared <= num_layers:
        raise ValueError(
            f"cannot share {num_shared} of {num_layers} layers "
            "(--shared-encoder-layers/--shared-decoder-layers must be between 0 "
            "and --encoder-layers/--decoder-layers)"
        )
    if share_from == "top":
        return list(range(num_layers - num_shared, num_layers))
    return list(range(num_shared))


class LSTMEncoder(FairseqEncoder):
    """Embedding + stacked one-layer LSTMs over right-padded source tokens.

    ``encoder_out`` is a dict with ``outputs`` (S x B x H), ``final_hidden`` and
    ``final_cell`` (L x B x H, one state per layer, directions concatenated) and
    ``padding_mask`` (S x B, True at pads).
    """

    def __init__(
        self, dictionary, embed_tokens: nn.Embedding, layers, dropout, max_pos
    ):
        super().__init__(dictionary)
        self.embed_tokens = embed_tokens
        self.layers = nn.ModuleList(layers)
        self.dropout = dropout
        self.max_source_positions = max_pos
        self.padding_idx = dictionary.pad()

    def forward(self, src_tokens: Tensor, src_lengths: Tensor, **unused):
        x = F.dropout(self.embed_tokens(src_tokens), self.dropout, self.training)
        packed = pack_padded_sequence(
            x.transpose(0, 1), src_lengths.cpu(), enforce_sorted=False
        )
        hiddens, cells = [], []
        for i, layer in enumerate(self.layers):
            packed, (h, c) = layer(packed)
            hiddens.append(torch.cat(list(h), dim=-1))  # B x H
            cells.append(torch.cat(list(c), dim=-1))
            if i < len(self.layers) - 1:
                packed = _packed_dropout(packed, self.dropout, self.training)
        outputs, _ = pad_packed_sequence(
            packed, padding_value=0.0, total_length=src_tokens.size(1)
        )  # S x B x H
        return {
            "outputs": outputs,
            "final_hidden": torch.stack(hiddens),
            "final_cell": torch.stack(cells),
            "padding_mask": src_tokens.eq(self.padding_idx).t(),
        }

    def reorder_encoder_out(self, encoder_out: Dict[str, Tensor], new_order: Tensor):
        return {
            "outputs": encoder_out["outputs"].index_select(1, new_order),
            "final_hidden": encoder_out["final_hidden"].index_select(1, new_order),
            "final_cell": encoder_out["final_cell"].index_select(1, new_order),
            "padding_mask": encoder_out["padding_mask"].index_select(1, new_order),
        }

    def max_positions(self):
        return self.max_source_positions


def _packed_dropout(packed: PackedSequence, p: float, training: bool):
    """Dropout on the data of a packed sequence, keeping its layout."""
    return packed._replace(data=F.dropout(packed.data, p, training))


class GlobalAttention(nn.Module):
    """Luong "general" attention followed by the attentional hidden layer."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.key_proj = nn.Linear(hidden_size, hidden_size, bias=False)
        self.output_proj = nn.Linear(2 * hidden_size, hidden_size, bias=False)

    def forward(self, query: Tensor, memory: Tensor, padding_mask: Tensor):
        """Attend from every decoder position to the encoder outputs.

        Args:
            query: T x B x H decoder states.
            memory: S x B x H encoder outputs.
            padding_mask: S x B, True at source pads.

        Returns:
            attentional states T x B x H and attention probabilities B x T x S.
        """
        keys = self.key_proj(memory).permute(1, 2, 0)  # B x H x S
        scores = torch.bmm(query.transpose(0, 1), keys)  # B x T x S
        scores = scores.masked_fill(padding_mask.t().unsqueeze(1), float("-inf"))
        probs = F.softmax(scores.float(), dim=-1).type_as(scores)
        context = torch.bmm(probs, memory.transpose(0, 1)).transpose(0, 1)
        out = torch.tanh(self.output_proj(torch.cat([context, query], dim=-1)))
        return out, probs


class LSTMDecoder(FairseqIncrementalDecoder):
    """Stacked one-layer LSTMs, global attention and an output projection.

    Layer ``i`` starts from the final state of encoder layer
    ``min(i, encoder_layers - 1)``.
    """

    def __init__(
        self,
        dictionary,
        embed_tokens: nn.Embedding,
        layers,
        attention: GlobalAttention,
        output_projection: nn.Linear,
        dropout: float,
        max_pos: int,
    ):
        super().__init__(dictionary)
        self.embed_tokens = embed_tokens
        self.layers = nn.ModuleList(layers)
        self.attention = attention
        self.output_projection = output_projection
        self.dropout = dropout
        self.max_target_positions = max_pos

    def forward(
        self,
        prev_output_tokens: Tensor,
        encoder_out: Dict[str, Tensor],
        incremental_state: Optional[Dict[str, Dict[str, Optional[Tensor]]]] = None,
        **unused,
    ):
        if incremental_state is not None:
            prev_output_tokens = prev_output_tokens[:, -1:]
        states = self._initial_states(encoder_out, incremental_state)
        x = F.dropout(
            self.embed_tokens(prev_output_tokens), self.dropout, self.training
        )
        x = x.transpose(0, 1)  # T x B x E
        new_states = []
        for i, layer in enumerate(self.layers):
            x, state = layer(x, states[i])
            new_states.append(state)
            if i < len(self.layers) - 1:
                x = F.dropout(x, self.dropout, self.training)
        if incremental_state is not None:
            self._cache_states(incremental_state, new_states)
        x, attn = self.attention(x, encoder_out["outputs"], encoder_out["padding_mask"])
        x = F.dropout(x, self.dropout, self.training)
        logits = self.output_projection(x).transpose(0, 1)  # B x T x V
        return logits, {"attn": [attn]}

    def _initial_states(
        self, encoder_out, incremental_state
    ) -> List[Tuple[Tensor, Tensor]]:
        cached = self.get_incremental_state(incremental_state, "lstm_states")
        if cached is not None:
            h, c = cached["hidden"], cached["cell"]
        else:
            top = encoder_out["final_hidden"].size(0) - 1
            pick = [min(i, top) for i in range(len(self.layers))]
            h = encoder_out["final_hidden"][pick]
            c = encoder_out["final_cell"][pick]
        return [(h[i : i + 1], c[i : i + 1]) for i in range(len(self.layers))]

    def _cache_states(self, incremental_state, states: List[Tuple[Tensor, Tensor]]):
        cache = {
            "hidden": torch.cat([h for h, _ in states]),
            "cell": torch.cat([c for _, c in states]),
        }
        self.set_incremental_state(incremental_state, "lstm_states", cache)

    def reorder_incremental_state(self, incremental_state, new_order: Tensor):
        cached = self.get_incremental_state(incremental_state, "lstm_states")
        if cached is None:
            return
        cache = {k: v.index_select(1, new_order) for k, v in cached.items()}
        self.set_incremental_state(incremental_state, "lstm_states", cache)

    def max_positions(self):
        return self.max_target_positions


class AIWTaskModel(FairseqEncoderDecoderModel):
    """One task's encoder-decoder view of the multitask model (used to decode)."""


class _ModuleBank:
    """Builds modules that are either shared by all tasks or private to one."""

    def __init__(self, shared: bool, build):
        self.shared, self.build, self._single = shared, build, None

    def get(self):
        if not self.shared:
            return self.build()
        if self._single is None:
            self._single = self.build()
        return self._single


@register_model("aiw_lstm", dataclass=AIWLSTMConfig)
class AIWMultitaskModel(BaseFairseqModel):
    """All tasks' encoder-decoders, with layers shared as configured.

    ``forward(..., task=name)`` runs one task; ``models[name]`` is that task's
    :class:`AIWTaskModel`, which is what the sequence generator decodes with.
    """

    def __init__(self, cfg: AIWLSTMConfig, models: Dict[str, AIWTaskModel]):
        super().__init__()
        self.cfg = cfg
        self.models = nn.ModuleDict(models)
        self.main_task = next(iter(models))

    @classmethod
    def build_model(cls, cfg: AIWLSTMConfig, task):
        if not cfg.model_tasks:
            with open_dict(cfg):
                cfg.model_tasks = ",".join(task.model_task_names)
        names = cfg.model_tasks.split(",")
        if not cfg.encoder_unidirectional and cfg.hidden_size % 2:
            raise ValueError("--hidden-size must be even for a bidirectional encoder")
        models = _build_task_models(cfg, names, task.source_dictionary)
        model = cls(cfg, models)
        model.log_sharing()
        return model

    def forward(self, src_tokens, src_lengths, prev_output_tokens, task=None, **kw):
        sub = self.models[task or self.main_task]
        return sub(src_tokens, src_lengths, prev_output_tokens, **kw)

    def get_normalized_probs(self, net_output, log_probs, sample=None):
        logits = net_output[0]
        if log_probs:
            return utils.log_softmax(logits, dim=-1)
        return utils.softmax(logits, dim=-1)

    def max_positions(self):
        return (self.cfg.max_source_positions, self.cfg.max_target_positions)

    def max_decoder_positions(self):
        return self.cfg.max_target_positions

    def shared_parameter_names(self) -> List[str]:
        """Names (as in ``named_parameters()``) of parameters used by 2+ tasks."""
        users: Dict[int, int] = {}
        for sub in self.models.values():
            for p in sub.parameters():
                users[id(p)] = users.get(id(p), 0) + 1
        return [n for n, p in self.named_parameters() if users[id(p)] > 1]

    def log_sharing(self):
        """Log once which layers are shared and the parameter counts."""
        cfg = self.cfg
        enc = shared_layer_ids(
            cfg.encoder_layers, cfg.shared_encoder_layers, cfg.share_encoder_from
        )
        dec = shared_layer_ids(
            cfg.decoder_layers, cfg.shared_decoder_layers, cfg.share_decoder_from
        )
        shared = set(self.shared_parameter_names())
        n_shared = sum(p.numel() for n, p in self.named_parameters() if n in shared)
        n_total = sum(p.numel() for p in self.parameters())
        logger.info(
            f"aiw_lstm tasks: {', '.join(self.models)}; shared encoder layers "
            f"{enc or 'none'} and decoder layers {dec or 'none'} (0 = bottom); "
            f"shared embeddings={cfg.share_embeddings} attention={cfg.share_attention}"
            f" output projection={cfg.share_output_projection}"
        )
        shared_ids = {id(p) for n, p in self.named_parameters() if n in shared}
        for name, sub in self.models.items():
            private = sum(
                p.numel() for p in sub.parameters() if id(p) not in shared_ids
            )
            logger.info(f"task {name}: {private:,} private parameters")
        logger.info(f"parameters: {n_total:,} in all, {n_shared:,} shared by all tasks")


def _module_banks(cfg: AIWLSTMConfig, vocab: int, pad: int) -> Dict[str, list]:
    """One bank per module slot of a task model, shared or private as configured.

    Returns:
        ``{"encoder": [bank per layer], "decoder": [...], "src_embed": [bank],
        "tgt_embed": [bank], "attention": [bank], "output": [bank]}``.
    """
    H, E = cfg.hidden_size, cfg.embed_dim
    bi = not cfg.encoder_unidirectional
    enc_shared = shared_layer_ids(
        cfg.encoder_layers, cfg.shared_encoder_layers, cfg.share_encoder_from
    )
    dec_shared = shared_layer_ids(
        cfg.decoder_layers, cfg.shared_decoder_layers, cfg.share_decoder_from
    )

    def enc_layer(i):
        return lambda: nn.LSTM(
            E if i == 0 else H, H // 2 if bi else H, bidirectional=bi
        )

    def dec_layer(i):
        return lambda: nn.LSTM(E if i == 0 else H, H)

    return {
        "encoder": [
            _ModuleBank(i in enc_shared, enc_layer(i))
            for i in range(cfg.encoder_layers)
        ],
        "decoder": [
            _ModuleBank(i in dec_shared, dec_layer(i))
            for i in range(cfg.decoder_layers)
        ],
        "src_embed": [
            _ModuleBank(cfg.share_embeddings, lambda: _embedding(vocab, E, pad))
        ],
        "tgt_embed": [
            _ModuleBank(cfg.share_embeddings, lambda: _embedding(vocab, E, pad))
        ],
        "attention": [_ModuleBank(cfg.share_attention, lambda: GlobalAttention(H))],
        "output": [
            _ModuleBank(cfg.share_output_projection, lambda: nn.Linear(H, vocab))
        ],
    }


def _build_task_models(cfg: AIWLSTMConfig, names: List[str], dictionary):
    """Each task's encoder-decoder, drawing shared modules from common banks."""
    banks = _module_banks(cfg, len(dictionary), dictionary.pad())
    models = {}
    for name in names:
        encoder = LSTMEncoder(
            dictionary,
            banks["src_embed"][0].get(),
            [b.get() for b in banks["encoder"]],
            cfg.dropout,
            cfg.max_source_positions,
        )
        decoder = LSTMDecoder(
            dictionary,
            banks["tgt_embed"][0].get(),
            [b.get() for b in banks["decoder"]],
            banks["attention"][0].get(),
            banks["output"][0].get(),
            cfg.dropout,
            cfg.max_target_positions,
        )
        models[name] = AIWTaskModel(encoder, decoder)
    return models


def _embedding(num_embeddings: int, dim: int, padding_idx: int) -> nn.Embedding:
    emb = nn.Embedding(num_embeddings, dim, padding_idx=padding_idx)
    nn.init.uniform_(emb.weight, -0.1, 0.1)
    nn.init.zeros_(emb.weight[padding_idx])
    return emb


@register_model_architecture("aiw_lstm", "aiw_lstm_paper")
def aiw_lstm_paper(args):
    """The authors' setting: 3+3 layers of 512, dropout 0.3, top-1/bottom-2 shared."""
    args.embed_dim = getattr(args, "embed_dim", 512)
    args.hidden_size = getattr(args, "hidden_size", 512)
    args.encoder_layers = getattr(args, "encoder_layers", 3)
    args.decoder_layers = getattr(args, "decoder_layers", 3)
    args.shared_encoder_layers = getattr(args, "shared_encoder_layers", 1)
    args.shared_decoder_layers = getattr(args, "shared_decoder_layers", 2)
    args.share_encoder_from = getattr(args, "share_encoder_from", "top")
    args.share_decoder_from = getattr(args, "share_decoder_from", "bottom")
    args.dropout = getattr(args, "dropout", 0.3)


@register_model_architecture("aiw_lstm", "aiw_lstm_tiny")
def aiw_lstm_tiny(args):
    """A few thousand parameters per task, for tests: 2+2 layers of 16."""
    args.embed_dim = getattr(args, "embed_dim", 16)
    args.hidden_size = getattr(args, "hidden_size", 16)
    args.encoder_layers = getattr(args, "encoder_layers", 2)
    args.decoder_layers = getattr(args, "decoder_layers", 2)
    args.shared_encoder_layers = getattr(args, "shared_encoder_layers", 1)
    args.shared_decoder_layers = getattr(args, "shared_decoder_layers", 1)
    aiw_lstm_paper(args)
