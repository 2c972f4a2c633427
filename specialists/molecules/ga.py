"""A graph-based genetic algorithm on RDKit molecules (after Jensen, Chem. Sci. 2019, GB-GA).

Mutations edit the molecular graph (add an atom or a group, delete an atom, change an element
or a bond order, insert an atom into a chain, close a ring); crossover cuts each parent at an
acyclic single bond and joins a piece of one to a piece of the other. Atoms of a scaffold the
request keeps are protected from deletion and element changes. Every child is sanitised by
RDKit; children that fail are dropped.
"""

from __future__ import annotations

import random

from specialists.molecules.chem import quiet_rdkit
from specialists.molecules.scoring import Scored, Scorer, stop_reason

_NEW_ATOMS = ["C", "C", "C", "C", "N", "N", "O", "O", "F", "Cl", "S"]
_GROUPS = ["*C", "*O", "*N", "*F", "*Cl", "*C(=O)N", "*C#N", "*OC", "*C(F)(F)F", "*c1ccccc1", "*c1ccncc1",
           "*C1CC1", "*S(C)(=O)=O", "*C(=O)O", "*N1CCOCC1", "*N1CCCC1", "*C(C)=O", "*NC(C)=O", "*c1ccco1", "*C(N)=O"]
_SWAP = {6: [7, 8, 16], 7: [6, 8], 8: [6, 7, 16], 9: [17, 6], 16: [8, 6], 17: [9, 35, 6], 35: [17]}
MAX_HEAVY = 60


def _protected(mol, queries) -> set[int]:
    """Atoms of every motif the request keeps (they are not deleted or changed)."""
    out: set[int] = set()
    for q in queries or []:
        out |= set(mol.GetSubstructMatch(q))
    return out


def _finish(rw):
    from rdkit import Chem

    try:
        mol = rw.GetMol()
        with quiet_rdkit():
            Chem.SanitizeMol(mol)
            smi = Chem.MolToSmiles(mol)
            out = Chem.MolFromSmiles(smi)
    except (ValueError, RuntimeError):  # RDKit raises these for impossible valences/kekulisation
        return None
    if out is None or not (3 <= out.GetNumHeavyAtoms() <= MAX_HEAVY) or "." in smi:
        return None
    return out


def _join(a, a_dummy: int, b, b_dummy: int):
    """Bond the neighbour of dummy ``a_dummy`` in ``a`` to the neighbour of ``b_dummy`` in ``b``."""
    from rdkit import Chem

    combo = Chem.RWMol(Chem.CombineMols(a, b))
    off = a.GetNumAtoms()
    na = combo.GetAtomWithIdx(a_dummy).GetNeighbors()[0].GetIdx()
    nb = combo.GetAtomWithIdx(b_dummy + off).GetNeighbors()[0].GetIdx()
    combo.AddBond(na, nb, Chem.BondType.SINGLE)
    for idx in sorted([a_dummy, b_dummy + off], reverse=True):
        combo.RemoveAtom(idx)
    for atom in combo.GetAtoms():
        atom.SetNoImplicit(False)
        if atom.GetIsAromatic() and not atom.IsInRing():
            atom.SetIsAromatic(False)
    return _finish(combo)


def _h_atoms(mol, exclude: set[int] = frozenset()) -> list[int]:
    return [a.GetIdx() for a in mol.GetAtoms() if a.GetTotalNumHs() > 0 and a.GetIdx() not in exclude]


def mutate(mol, rng: random.Random, protected: set[int]):
    """One random graph edit of ``mol``; None when the edit fails sanitisation."""
    from rdkit import Chem

    op = rng.choice(["add_atom", "add_group", "add_group", "delete", "element", "bond", "insert", "ring"])
    rw = Chem.RWMol(mol)
    free = [a.GetIdx() for a in mol.GetAtoms() if a.GetIdx() not in protected]
    if op == "add_atom":
        sites = _h_atoms(mol)
        if not sites:
            return None
        a = rng.choice(sites)
        new = rw.AddAtom(Chem.Atom(rng.choice(_NEW_ATOMS)))
        double = rng.random() < 0.15 and mol.GetAtomWithIdx(a).GetTotalNumHs() >= 2
        rw.AddBond(a, new, Chem.BondType.DOUBLE if double else Chem.BondType.SINGLE)
    elif op == "add_group":
        sites = _h_atoms(mol)
        if not sites:
            return None
        a = rng.choice(sites)
        host = Chem.RWMol(mol)
        dummy = host.AddAtom(Chem.Atom(0))
        host.AddBond(a, dummy, Chem.BondType.SINGLE)
        group = Chem.MolFromSmiles(rng.choice(_GROUPS))
        gd = next(x.GetIdx() for x in group.GetAtoms() if x.GetAtomicNum() == 0)
        return _join(host.GetMol(), dummy, group, gd)
    elif op == "delete":
        cands = [i for i in free if mol.GetAtomWithIdx(i).GetDegree() == 1]
        chain = [i for i in free if mol.GetAtomWithIdx(i).GetDegree() == 2 and not mol.GetAtomWithIdx(i).IsInRing()]
        if chain and rng.random() < 0.3:
            i = rng.choice(chain)
            n1, n2 = (n.GetIdx() for n in mol.GetAtomWithIdx(i).GetNeighbors())
            rw.AddBond(n1, n2, Chem.BondType.SINGLE)
            rw.RemoveAtom(i)
        elif cands:
            rw.RemoveAtom(rng.choice(cands))
        else:
            return None
    elif op == "element":
        cands = [i for i in free if mol.GetAtomWithIdx(i).GetAtomicNum() in _SWAP]
        if not cands:
            return None
        atom = rw.GetAtomWithIdx(rng.choice(cands))
        atom.SetAtomicNum(rng.choice(_SWAP[atom.GetAtomicNum()]))
        atom.SetNoImplicit(False)
        atom.SetNumExplicitHs(0)
    elif op == "bond":
        bonds = [b for b in mol.GetBonds() if not b.GetIsAromatic() and b.GetBeginAtomIdx() not in protected
                 and b.GetEndAtomIdx() not in protected]
        if not bonds:
            return None
        b = rw.GetBondWithIdx(rng.choice(bonds).GetIdx())
        b.SetBondType(Chem.BondType.SINGLE if b.GetBondType() != Chem.BondType.SINGLE else Chem.BondType.DOUBLE)
    elif op == "insert":
        bonds = [b for b in mol.GetBonds() if not b.IsInRing()]
        if not bonds:
            return None
        b = rng.choice(bonds)
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        rw.RemoveBond(i, j)
        new = rw.AddAtom(Chem.Atom(rng.choice(["C", "C", "N", "O"])))
        rw.AddBond(i, new, Chem.BondType.SINGLE)
        rw.AddBond(new, j, Chem.BondType.SINGLE)
    else:  # ring closure between two atoms 4–5 bonds apart makes a 5- or 6-membered ring
        dm = Chem.GetDistanceMatrix(mol)
        sites = _h_atoms(mol)
        pairs = [(i, j) for i in sites for j in sites if i < j and dm[i][j] in (4, 5)]
        if not pairs:
            return None
        i, j = rng.choice(pairs)
        rw.AddBond(i, j, Chem.BondType.SINGLE)
    for atom in rw.GetAtoms():
        atom.SetNoImplicit(False) if not atom.GetIsAromatic() else None
    return _finish(rw)


def crossover(a, b, rng: random.Random, protected_a: set[int]):
    """Join a piece of ``a`` (the piece holding any protected atoms) to a piece of ``b``."""
    from rdkit import Chem

    def cut(mol, keep: set[int] | None):
        bonds = [x.GetIdx() for x in mol.GetBonds() if x.GetBondType() == Chem.BondType.SINGLE and not x.IsInRing()]
        if not bonds:
            return None
        frag = Chem.FragmentOnBonds(mol, [rng.choice(bonds)], addDummies=True)
        pieces = Chem.GetMolFrags(frag, asMols=True, sanitizeFrags=False)
        if len(pieces) != 2:
            return None
        if keep:
            idx_sets = Chem.GetMolFrags(frag)
            pick = 0 if keep & set(idx_sets[0]) else 1
        else:
            pick = rng.randrange(2)
        piece = pieces[pick]
        dummy = next(x.GetIdx() for x in piece.GetAtoms() if x.GetAtomicNum() == 0)
        return piece, dummy

    ca, cb = cut(a, protected_a), cut(b, None)
    if ca is None or cb is None:
        return None
    return _join(ca[0], ca[1], cb[0], cb[1])


def run_ga(scorer: Scorer, seeds: list, rng: random.Random, deadline: float, budget: int, target: int,
           population: int = 60, offspring: int = 40) -> str:
    """Evolve from ``seeds`` (RDKit molecules) until ``target`` molecules pass or a budget ends.

    Returns:
        Why the search stopped ("target reached", "oracle budget", "time budget", "stalled").
    """
    from rdkit import Chem

    scaffold = scorer.kept_queries
    pop: list[tuple[Scored, object]] = []
    for s, m in zip(scorer.score_mols(seeds), seeds, strict=True):
        if s is not None:
            pop.append((s, m))
    if not pop:
        return "no valid seed molecules"
    stale = 0
    while True:
        reason = stop_reason(scorer, target, budget, deadline)
        if reason:
            return reason
        weights = [max(s.score, 0.01) for s, _ in pop]
        children = []
        for _ in range(offspring):
            (_, pa), = rng.choices(pop, weights)
            child = None
            if rng.random() < 0.4 and len(pop) > 1:
                (_, pb), = rng.choices(pop, weights)
                child = crossover(pa, pb, rng, _protected(pa, scaffold))
            if child is None or rng.random() < 0.6:
                base = child if child is not None else pa
                child = mutate(base, rng, _protected(base, scaffold)) or child
            if child is not None:
                children.append(child)
        before = scorer.calls
        scored = scorer.score_mols(children)
        stale = stale + 1 if scorer.calls == before else 0
        if stale > 30:
            return "stalled"
        seen = {s.smiles for s, _ in pop}
        for s in scored:
            if s is not None and s.smiles not in seen:
                pop.append((s, Chem.MolFromSmiles(s.smiles)))
                seen.add(s.smiles)
        pop.sort(key=lambda t: -t[0].score)
        pop = pop[:population]
