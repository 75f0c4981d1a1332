"""Finding the cases of a BIDS dataset: each subject's (and session's) T2w and angio images.

A case is one subject, or one session of a subject when the dataset has
sessions. Its T2 is the ``*_T2w.nii[.gz]`` and its TOF the ``*_angio.nii[.gz]``
of the ``anat`` folder (any ``acq-`` entity; ``--t2-acq`` / ``--angio-acq``
choose when there are several). The symptomatic side comes from the
``hfs_side`` column of ``participants.tsv`` where present. Every subject that
cannot be analysed is listed with the reason, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nvc.io.bids import read_participants
from nvc_pipelines.errors import UsageError

#: BIDS labels: letters and digits only (so a label can never walk out of a folder).
LABEL = re.compile(r"[A-Za-z0-9]+")
#: Spellings of a side in ``participants.tsv`` (and ``nvc run --side``), lower case.
SIDE_NAMES = {"left": "left", "l": "left", "right": "right", "r": "right"}
_MISSING = {"", "n/a", "na"}
_NIFTI = (".nii.gz", ".nii")


@dataclass(frozen=True)
class CaseSpec:
    """One case to analyse.

    Attributes
    ----------
    subject, session : str
        BIDS labels (without ``sub-`` / ``ses-``); ``session`` is None without sessions.
    t2, angio : Path
        The input images.
    hfs_side : {"left", "right"} or None
        Symptomatic side from ``participants.tsv``.
    """

    subject: str
    session: str | None
    t2: Path
    angio: Path
    hfs_side: str | None

    @property
    def case_id(self) -> str:
        """``sub-01`` or ``sub-01_ses-02`` (names the log and the Dask task)."""
        return f"sub-{self.subject}" + (f"_ses-{self.session}" if self.session else "")

    @property
    def relative_dir(self) -> Path:
        """Results folder inside the output dataset: ``sub-01`` or ``sub-01/ses-02``."""
        base = Path(f"sub-{self.subject}")
        return base / f"ses-{self.session}" if self.session else base


@dataclass(frozen=True)
class Skipped:
    """A subject (or session) that will not be analysed, and why."""

    subject: str
    session: str | None
    reason: str

    @property
    def case_id(self) -> str:
        """``sub-01`` or ``sub-01_ses-02``."""
        return f"sub-{self.subject}" + (f"_ses-{self.session}" if self.session else "")


@dataclass(frozen=True)
class Discovery:
    """The cases of a dataset and the subjects skipped."""

    cases: tuple[CaseSpec, ...]
    skipped: tuple[Skipped, ...]


def clean_label(label: str, what: str = "participant label") -> str:
    """A label without its ``sub-``/``ses-`` prefix; letters and digits only.

    Raises
    ------
    UsageError
        When the label has any other character (``..``, ``/``, spaces ...).
    """
    for prefix in ("sub-", "ses-"):
        if label.startswith(prefix):
            label = label[len(prefix) :]
    if not LABEL.fullmatch(label):
        raise UsageError(f"{what} {label!r} is not a BIDS label (letters and digits only)")
    return label


def discover(
    bids_dir: Path,
    *,
    participant_labels: list[str] | None = None,
    t2_acq: str | None = None,
    angio_acq: str | None = None,
) -> Discovery:
    """List the cases of a BIDS dataset.

    Parameters
    ----------
    bids_dir : Path
        Root of a BIDS raw dataset.
    participant_labels : list of str, optional
        Only these subjects (with or without ``sub-``); a label absent from
        the dataset is reported as skipped.
    t2_acq, angio_acq : str, optional
        The ``acq-`` label to take when a case has several T2w or angio images.

    Raises
    ------
    UsageError
        A participant label or acq label that is not a BIDS label.
    """
    wanted = None
    if participant_labels:
        wanted = [clean_label(label) for label in participant_labels]
    for acq in (t2_acq, angio_acq):
        if acq is not None:
            clean_label(acq, "acq label")
    participants = read_participants(bids_dir)
    subjects = sorted(
        p.name[4:] for p in bids_dir.iterdir() if p.is_dir() and p.name.startswith("sub-")
    )
    cases: list[CaseSpec] = []
    skipped: list[Skipped] = []
    if wanted is not None:
        present = set(subjects)
        skipped += [Skipped(s, None, "not in the dataset") for s in wanted if s not in present]
        subjects = [s for s in subjects if s in set(wanted)]
    for subject in subjects:
        if not LABEL.fullmatch(subject):
            skipped.append(Skipped(subject, None, "folder name is not a BIDS label"))
            continue
        try:
            side = _hfs_side(participants.get(f"sub-{subject}", {}).get("hfs_side"))
        except ValueError as exc:
            skipped.append(Skipped(subject, None, str(exc)))
            continue
        sub_dir = bids_dir / f"sub-{subject}"
        sessions = sorted(
            p.name[4:] for p in sub_dir.iterdir() if p.is_dir() and p.name.startswith("ses-")
        )
        session_list: list[str | None] = list(sessions) if sessions else [None]
        for session in session_list:
            if session is not None and not LABEL.fullmatch(session):
                skipped.append(Skipped(subject, session, "session folder is not a BIDS label"))
                continue
            anat = (sub_dir / f"ses-{session}" if session else sub_dir) / "anat"
            prefix = f"sub-{subject}" + (f"_ses-{session}" if session else "")
            t2, why_t2 = _pick(anat, prefix, "T2w", t2_acq)
            angio, why_angio = _pick(anat, prefix, "angio", angio_acq)
            if t2 is None or angio is None:
                reason = "; ".join(w for w in (why_t2, why_angio) if w)
                skipped.append(Skipped(subject, session, reason))
                continue
            cases.append(CaseSpec(subject, session, t2, angio, side))
    return Discovery(tuple(cases), tuple(skipped))


def _hfs_side(value: str | None) -> str | None:
    if value is None or value.strip().lower() in _MISSING:
        return None
    side = SIDE_NAMES.get(value.strip().lower())
    if side is None:
        raise ValueError(f"participants.tsv hfs_side {value!r} is not left, right or n/a")
    return side


def _pick(anat: Path, prefix: str, suffix: str, acq: str | None) -> tuple[Path | None, str]:
    """The one ``<prefix>[_acq-X][_...]_<suffix>.nii[.gz]`` of ``anat``, or why not."""
    if not anat.is_dir():
        return None, "no anat folder"
    found = []
    for p in sorted(anat.iterdir()):
        stem = next((p.name[: -len(e)] for e in _NIFTI if p.name.endswith(e)), None)
        if stem is None or not p.is_file() or not stem.startswith(prefix + "_"):
            continue
        entities = stem[len(prefix) + 1 :].split("_")
        if entities[-1] != suffix:
            continue
        if acq is not None and f"acq-{acq}" not in entities[:-1]:
            continue
        found.append(p)
    if not found:
        extra = f" with acq-{acq}" if acq else ""
        return None, f"no {suffix} image{extra}"
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        option = "--t2-acq" if suffix == "T2w" else "--angio-acq"
        return None, f"several {suffix} images ({names}): choose one with {option}"
    return found[0], ""
