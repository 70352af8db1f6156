"""An export-friendly view of the GLM-4.1V vision tower (same weights, same arithmetic).

``Glm4vVisionModel.forward`` derives its position ids, rotary tables, attention segments
(``cu_seqlens``, split with ``.tolist()``) and the interpolated position embeddings from
``grid_thw`` with data-dependent Python code that graph capture cannot follow. ``VisionTowerExport``
wraps the loaded tower's modules and takes the grid-dependent parts as inputs instead:

- ``pixel_values``   (N, C·T·P·P) float32 — the processor's flattened patches of ONE image;
- ``position_ids``   (N, 2) int64 — (h, w) patch coordinates in spatial-merge block order;
- ``pos_sample_grid`` (N, 2) float32 — normalised (x, y) where each patch samples the learned
  position-embedding table (bicubic ``grid_sample``, border padding, as the original).

The rotary cos/sin are computed in the graph from ``position_ids`` (a multiply and cos/sin). One
image per call, so attention is over all N patches — exactly what ``cu_seqlens`` with a single
segment means; several pages are several calls (the vision tower treats images independently).
The two convolutions (patch embedding Conv3d, 2×2 downsampling Conv2d) have kernel = stride over
their whole input, so they are computed as Linear layers with the same (reshaped) weights — the
graph then holds only MatMul/Gemm for weights, which dynamic INT8 quantization covers. Norms,
MLPs, attention projections and the merger are the original modules, called as they are.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class VisionTowerExport(nn.Module):
    """The GLM-4.1V vision tower as one image in, merged visual tokens out (N / merge² rows)."""

    def __init__(self, visual: Any) -> None:
        super().__init__()
        self.visual = visual
        config = visual.config
        self.merge = int(config.spatial_merge_size)
        self.out_hidden = int(config.out_hidden_size)
        self.num_heads = int(config.num_heads)
        self.head_dim = int(config.hidden_size) // self.num_heads
        # The convolutions' weights reshaped once here, so the graph holds them as plain
        # initializers (a Reshape/Transpose inside the graph would hide them from quantization).
        proj, conv = visual.patch_embed.proj, visual.downsample
        self.register_buffer(
            "patch_weight", proj.weight.detach().reshape(proj.weight.shape[0], -1).clone()
        )
        self.register_buffer(
            "downsample_weight",
            conv.weight.detach().permute(0, 2, 3, 1).reshape(conv.weight.shape[0], -1).clone(),
        )

    def patch_embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """``Glm4vVisionPatchEmbed``: its Conv3d's kernel equals its stride and covers a whole
        flattened patch, so it is a Linear over the C·T·P·P values (a MatMul, quantized to INT8
        with the other weights, instead of a 3-D Conv)."""
        bias = self.visual.patch_embed.proj.bias
        return F.linear(pixel_values.to(self.patch_weight.dtype), self.patch_weight, bias)

    def downsample(self, hidden: torch.Tensor) -> torch.Tensor:
        """The 2×2 stride-2 ``downsample`` Conv2d over each spatial-merge block, as a Linear over
        the block's m·m·C values in patch order (weight permuted to (out, m, m, C) to match)."""
        blocks = hidden.reshape(-1, self.merge * self.merge * hidden.shape[-1])
        return F.linear(blocks, self.downsample_weight, self.visual.downsample.bias)

    def rotary(self, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cos/sin (N, head_dim) as ``Glm4vVisionRotaryEmbedding`` builds them."""
        rope = self.visual.rotary_pos_emb
        freqs = position_ids[..., None].float() * rope.inv_freq.float()  # (N, 2, head_dim/4)
        cos = freqs.cos() * rope.attention_scaling
        sin = freqs.sin() * rope.attention_scaling
        cos = torch.cat([cos[:, 0], cos[:, 1]], dim=-1)
        sin = torch.cat([sin[:, 0], sin[:, 1]], dim=-1)
        return torch.cat([cos, cos], dim=-1), torch.cat([sin, sin], dim=-1)

    def position_embedding(self, pos_sample_grid: torch.Tensor) -> torch.Tensor:
        """Bicubic interpolation of the learned table at each patch (``Glm4vVisionEmbeddings``)."""
        weight = self.visual.embeddings.position_embedding.weight
        side = math.isqrt(int(weight.shape[0]))  # the table is a square grid
        table = weight.view(side, side, weight.shape[1]).permute(2, 0, 1).unsqueeze(0).float()
        grid = pos_sample_grid.float().unsqueeze(0).unsqueeze(2)  # (1, N, 1, 2)
        sampled = F.grid_sample(
            table, grid, mode="bicubic", align_corners=False, padding_mode="border"
        )
        return sampled.squeeze(0).squeeze(-1).permute(1, 0).to(weight.dtype)

    def attention(
        self, attn: Any, hidden: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
    ) -> torch.Tensor:
        """``Glm4vVisionAttention`` (eager path) over one segment holding all patches."""
        n = hidden.shape[0]
        qkv = attn.qkv(hidden).reshape(n, 3, self.num_heads, self.head_dim).permute(1, 0, 2, 3)
        q, k, v = qkv[0], qkv[1], qkv[2]
        dtype = q.dtype
        cos_, sin_ = cos.unsqueeze(-2).float(), sin.unsqueeze(-2).float()
        q = (q.float() * cos_ + _rotate_half(q.float()) * sin_).to(dtype)
        k = (k.float() * cos_ + _rotate_half(k.float()) * sin_).to(dtype)
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)  # (heads, N, d)
        scores = torch.matmul(q, k.transpose(1, 2)) * attn.scaling
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(dtype)
        out = torch.matmul(probs, v).transpose(0, 1).reshape(n, -1)
        return attn.proj(out)

    def forward(
        self,
        pixel_values: torch.Tensor,
        position_ids: torch.Tensor,
        pos_sample_grid: torch.Tensor,
    ) -> torch.Tensor:
        visual = self.visual
        hidden = self.patch_embed(pixel_values)
        hidden = visual.post_conv_layernorm(hidden)
        cos, sin = self.rotary(position_ids)
        hidden = hidden + self.position_embedding(pos_sample_grid).to(hidden.device)
        for block in visual.blocks:
            hidden = hidden + self.attention(block.attn, block.norm1(hidden), cos, sin)
            hidden = hidden + block.mlp(block.norm2(hidden))
        hidden = visual.post_layernorm(hidden)
        return visual.merger(self.downsample(hidden))


def reference_features(
    visual: Any, pixel_values: torch.Tensor, grid_thw: torch.Tensor
) -> torch.Tensor:
    """The unmodified tower's merged features (the parity reference): ``pooler_output``."""
    with torch.no_grad():
        out = visual(pixel_values.to(visual.dtype), grid_thw=grid_thw, return_dict=True)
    return out.pooler_output
