"""PyTorch eager's side of bench_training: trains the same Llama shape the natural way
(an nn.Module per layer, separate q/k/v projections, Hugging Face's rotate_half rotary,
torch.optim.AdamW, clip_grad_norm_) and prints one JSON object with its step times.

Usage: /usr/bin/python3 training_torch.py SHAPE.json
SHAPE.json: {"hidden", "layers", "heads", "kv_heads", "ffn", "vocab", "context", "batch",
"tied", "threads", "warmup_steps", "steps"}; "threads" goes to torch.set_num_threads (ATen's
OpenMP pool; OpenBLAS's pool follows OPENBLAS_NUM_THREADS). Debian's python3-torch
(libtorch 1.13, the library qdgen links).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, size, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.heads, self.kv_heads = s["heads"], s["kv_heads"]
        self.head_dim = s["hidden"] // s["heads"]
        self.q_proj = nn.Linear(s["hidden"], self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(s["hidden"], self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(s["hidden"], self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, s["hidden"], bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        repeat = self.heads // self.kv_heads
        if repeat > 1:
            k = k.repeat_interleave(repeat, dim=1)
            v = v.repeat_interleave(repeat, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        weights = F.softmax(scores, dim=-1, dtype=torch.float32)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.gate_proj = nn.Linear(s["hidden"], s["ffn"], bias=False)
        self.up_proj = nn.Linear(s["hidden"], s["ffn"], bias=False)
        self.down_proj = nn.Linear(s["ffn"], s["hidden"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.input_layernorm = RMSNorm(s["hidden"])
        self.self_attn = Attention(s)
        self.post_attention_layernorm = RMSNorm(s["hidden"])
        self.mlp = MLP(s)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.embed_tokens = nn.Embedding(s["vocab"], s["hidden"])
        self.layers = nn.ModuleList(DecoderLayer(s) for _ in range(s["layers"]))
        self.norm = RMSNorm(s["hidden"])
        self.lm_head = nn.Linear(s["hidden"], s["vocab"], bias=False)
        if s["tied"]:
            self.lm_head.weight = self.embed_tokens.weight
        head_dim = s["hidden"] // s["heads"]
        inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))
        freqs = torch.outer(torch.arange(s["context"]).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos()[None, None], persistent=False)
        self.register_buffer("sin", emb.sin()[None, None], persistent=False)
        mask = torch.full((s["context"], s["context"]), float("-inf")).triu(1)
        self.register_buffer("mask", mask[None, None], persistent=False)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)

    def forward(self, tokens):
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return self.lm_head(self.norm(x))


def main():
    s = json.load(open(sys.argv[1]))
    torch.set_num_threads(s["threads"])
    torch.manual_seed(0)
    model = Llama(s)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "embed" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "embed" not in n)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    generator = torch.Generator().manual_seed(1)
    times, cpu_times = [], []
    for step in range(s["warmup_steps"] + s["steps"]):
        tokens = torch.randint(0, s["vocab"], (s["batch"], s["context"] + 1), generator=generator)
        start, cpu_start = time.perf_counter(), time.process_time()
        logits = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.view(-1, s["vocab"]), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step >= s["warmup_steps"]:
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    parameters = sum(p.numel() for p in model.parameters())
    print(json.dumps({"step_seconds": times, "step_cpu_seconds": cpu_times, "parameters": parameters,
                      "loss": loss.item(), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
