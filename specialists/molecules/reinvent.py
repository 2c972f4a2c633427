"""REINVENT-style reinforcement learning of the chemical language model (Olivecrona et al.,
J. Cheminform. 2017; Blaschke et al., JCIM 2020).

The agent starts as a copy of the prior. Each step it samples a batch; each molecule's score S
(from :class:`Scorer`) defines an augmented log-likelihood ``log P_prior + σ·S``, and the agent
is moved towards it by minimising ``(augmented − log P_agent)²``. The best molecules so far are
replayed (experience replay), and a molecule already seen earns nothing again (a simple
diversity filter). With reference molecules the agent and its prior are first focused on them
by a few steps of likelihood training on randomised SMILES of the references (transfer learning).
"""

from __future__ import annotations

import time

import torch

from specialists.molecules.assets import torch_single_thread
from specialists.molecules.chem import quiet_rdkit
from specialists.molecules.prior import Prior
from specialists.molecules.scoring import Scorer, stop_reason


def _encode(prior: Prior, smiles: list[str], variants: int, seed: int) -> torch.Tensor | None:
    """Token ids of alternative, stereo-free string forms of ``smiles`` (rows padded with 0)."""
    from rdkit import Chem

    rows: list[list[int]] = []
    for s in smiles:
        with quiet_rdkit():
            mol = Chem.MolFromSmiles(s)
        if mol is None:
            continue
        forms = {Chem.MolToSmiles(mol, isomericSmiles=False)}
        # Rooting the SMILES at different atoms gives deterministic alternative spellings.
        n = mol.GetNumAtoms()
        for k in range(min(variants, n)):
            forms.add(Chem.MolToSmiles(mol, isomericSmiles=False, rootedAtAtom=(seed + k * 7) % n, canonical=False))
        for f in sorted(forms):
            text = prior.to_text(f)
            ids = prior.vocab.encode(text) if text else None
            if ids is not None and len(ids) <= prior.max_len + 1:
                rows.append(ids)
    if not rows:
        return None
    width = max(len(r) for r in rows)
    return torch.tensor([r + [0] * (width - len(r)) for r in rows], dtype=torch.long)


def _focus(agent: Prior, ids: torch.Tensor, steps: int, until: float, lr: float = 1e-3) -> None:
    opt = torch.optim.Adam(agent.model.parameters(), lr=lr)
    for _ in range(steps):
        if time.monotonic() > until:  # focusing may use at most a quarter of the time budget
            break
        loss = -agent.log_likelihood(ids).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def run_reinvent(scorer: Scorer, prior: Prior, seed: int, deadline: float, budget: int, target: int,
                 batch: int = 64, sigma: float = 80.0, lr: float = 5e-4, focus_steps: int = 25) -> str:
    """Fine-tune a copy of ``prior`` on the request's score until a budget ends or ``target`` pass.

    Returns:
        Why the search stopped ("target reached", "oracle budget", "time budget", "stalled").
    """
    with torch_single_thread():
        return _run(scorer, prior, seed, deadline, budget, target, batch, sigma, lr, focus_steps)


def _run(scorer: Scorer, prior: Prior, seed: int, deadline: float, budget: int, target: int,
         batch: int, sigma: float, lr: float, focus_steps: int) -> str:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    anchor = prior.clone()
    agent = prior.clone()
    focus = list(scorer.req.references) + [m.smiles for m in scorer.req.kept if m.smiles]
    if focus:
        ids = _encode(agent, focus, variants=24, seed=seed)
        if ids is not None:
            now = time.monotonic()
            _focus(agent, ids, focus_steps, until=now + 0.25 * max(0.0, deadline - now))
            anchor = agent.clone()  # the focused model is the prior of the RL phase
    opt = torch.optim.Adam(agent.model.parameters(), lr=lr)
    memory: dict[str, tuple[float, torch.Tensor]] = {}
    seen: set[str] = set()
    stale = 0
    while True:
        reason = stop_reason(scorer, target, budget, deadline)
        if reason:
            return reason
        smiles, ids, _ = agent.sample(batch, generator=gen)
        before = scorer.calls
        scored = scorer.score_smiles(smiles)
        stale = stale + 1 if scorer.calls == before else 0
        if stale > 20:
            return "stalled"
        rewards = []
        for s, row in zip(scored, ids, strict=True):
            if s is None:
                rewards.append(0.0)
                continue
            rewards.append(0.0 if s.smiles in seen else s.score)
            if s.smiles not in seen:
                seen.add(s.smiles)
                memory[s.smiles] = (s.score, row)
        agent.model.train(True)
        agent_ll = agent.log_likelihood(ids)
        with torch.no_grad():
            prior_ll = anchor.log_likelihood(ids)
        aug = prior_ll + sigma * torch.tensor(rewards)
        loss = ((aug - agent_ll) ** 2).mean()
        if len(memory) >= 8:
            best = sorted(memory.values(), key=lambda t: -t[0])[:32]
            pick = torch.randperm(len(best), generator=gen)[:8].tolist()
            rows = [best[i][1] for i in pick]
            width = max(r.shape[0] for r in rows)
            mem_ids = torch.stack([torch.nn.functional.pad(r, (0, width - r.shape[0])) for r in rows])
            with torch.no_grad():
                mem_prior = anchor.log_likelihood(mem_ids)
            mem_aug = mem_prior + sigma * torch.tensor([best[i][0] for i in pick])
            loss = loss + ((mem_aug - agent.log_likelihood(mem_ids)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(agent.model.parameters(), 5.0)
        opt.step()
