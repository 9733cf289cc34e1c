"""OmegaT end to end with the real program (Debian's ``omegat``, 3.6, in console mode).

A run writes ``aligned/omegat/be/``; OmegaT opens it (``--mode=console-translate``),
inserts the pre-translations and writes the translated documents. A translator's edit is
made through OmegaT itself: a Groovy script run by OmegaT on the project-load event does
what OmegaT's editor does when a segment is left (``EditorController.commitAndDeactivate``:
``IProject.setTranslation`` with the translations shown when the segment was opened and
its default/alternative state as the editor's ``SegmentBuilder`` sets it), then saves ``omegat/project_save.tmx`` the way
``RealProject.saveProject`` does (``ProjectTMX.save``; the GUI-only autosave is not there
in console mode). A second console run loads that memory and writes ``target/``, which
shows where OmegaT itself puts the fix. Then ``workflow review import`` of the project
folder must store that one fix, for that segment and language, under the reviewer's name,
and nothing else.

The corpus has one English sentence in two documents, translated identically, which is
what made OmegaT propagate one fix to unrelated segments through the XLIFF files.
"""

from __future__ import annotations

import shutil
import subprocess

import polars as pl
import polib
import pytest

from conftest import CORPUS, write_config

from workflow import pipeline
from workflow.cli.app import main
from workflow.core.config import load_config
from workflow.core.store import Store
from workflow.outputs.omegat import PRETRANSLATED_BY
from workflow.review.importer import ImportRejected, import_files
from workflow.review.memory import Memory

OMEGAT = shutil.which("omegat")
pytestmark = pytest.mark.skipif(OMEGAT is None, reason="Debian's omegat is not installed (`make` installs it when run as root)")

SHARED = "Belarusians are peacefully demanding accountability to prevent this dangerous culture of impunity."
FIX = "Беларусы мірна патрабуюць адказнасці, каб спыніць гэтую небяспечную культуру беспакаранасці."
D1 = "police-accountable"
D2 = "echo"

# the translator: OmegaT runs this on each project event (--script); on load it edits one segment
# as the editor would and saves the project memory
TRANSLATOR = r"""
import org.omegat.core.data.PrepareTMXEntry
if (eventType.toString() == "LOAD") {
  def props = project.projectProperties
  def ste = project.allEntries.find { it.key.file == "@FILE@" && it.key.path == "@PATH@" }
  def current = project.getTranslationInfo(ste)
  def shown = project.getAllTranslations(ste)  // what the editor keeps when it opens the segment
  println "BEFORE default=" + current.defaultTranslation + " text=" + current.translation
  // the editor's rule (SegmentBuilder): an edit stays an alternative unless the segment shows a
  // default translation and the project allows default translations
  boolean asDefault = @FORCE_DEFAULT@ || (current.defaultTranslation && props.supportDefaultTranslations)
  def entry = new PrepareTMXEntry()
  entry.translation = "@FIX@"
  project.setTranslation(ste, entry, asDefault, null, shown)  // the editor's call on leaving the segment
  project.projectTMX.save(props, props.projectInternal + "project_save.tmx", true)
  println "SAVED"
}
"""


@pytest.fixture(scope="module")
def proj(tmp_path_factory, tiny_marian):
    root = tmp_path_factory.mktemp("omegat")
    corpus = root / "corpus"
    corpus.mkdir()
    head = (CORPUS / "amnesty-belarus-police-must-be-held-accountable.txt").read_text(encoding="utf-8").split("\n")[:7]
    assert SHARED in head[6]
    (corpus / f"{D1}.txt").write_text("\n".join(head) + "\n", encoding="utf-8")
    (corpus / f"{D2}.txt").write_text(f"Protests go on in Minsk.\n\n{SHARED}\n", encoding="utf-8")
    shutil.copy(CORPUS / "glossary.toml", corpus / "glossary.toml")
    cfg = load_config(write_config(root, be=tiny_marian, ru=tiny_marian, corpus=corpus))
    pipeline.run(cfg)
    return root, cfg


def _omegat(project, tmp_path, script=None) -> str:
    """One console run of OmegaT on ``project``; its output."""
    cmd = [OMEGAT, "--mode=console-translate", f"--config-dir={tmp_path / 'omegat-config'}", "--quiet"]
    if script is not None:
        path = tmp_path / "translator.groovy"
        path.write_text(script, encoding="utf-8")
        cmd.append(f"--script={path}")
    done = subprocess.run([*cmd, str(project)], capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "Exception" not in out, out
    return out


def _rows(cfg):
    df = pl.read_parquet(cfg.resolve(cfg.out) / "segments.parquet")
    return {(r["seg_id"], r["target"]): r for r in df.iter_rows(named=True)}


def _targets(project):
    """(document file, segment id) -> translation, from the PO files OmegaT wrote into target/."""
    return {(p.name, e.msgctxt): e.msgstr for p in sorted((project / "target").glob("*.po")) for e in polib.pofile(str(p))}


def _shared(rows):
    return sorted(sid for (sid, t), r in rows.items() if t == "be" and r["en"] == SHARED)


def _project_copy(cfg, tmp_path, target="be"):
    """The reviewer's copy of a project (aligned/ is rewritten by every run)."""
    project = tmp_path / target
    shutil.copytree(cfg.resolve(cfg.out) / "omegat" / target, project)
    return project


def _fixes(cfg):
    with Store(cfg.resolve(cfg.store)) as store:
        return Memory(store).all()


@pytest.mark.parametrize("target, term", [("be", "Lukashenka\tЛукашэнка"), ("ru", "Lukashenka\tЛукашенко")])
def test_project_opens_in_omegat_with_english_source_and_mt_pretranslated(proj, tmp_path, target, term):
    root, cfg = proj
    rows = _rows(cfg)
    shared = _shared(rows)
    assert len(shared) == 2 and len({rows[s, "be"]["mt"] for s in shared}) == 1  # same English, same MT
    project = _project_copy(cfg, tmp_path, target)
    _omegat(project, tmp_path)
    assert sorted(p.name for p in (project / "target").glob("*.po")) == [f"{D2}.po", f"{D1}.po"]
    got = _targets(project)
    expected = {(f"{r['doc_id']}.po", sid): r["approved"] or r["mt"] for (sid, t), r in rows.items()
                if t == target and r["status"] != "skipped"}
    assert got == expected  # every segment once, English as the source, its own text as its translation
    # the glossary, read by OmegaT's own glossary reader (run inside OmegaT on the load event)
    script = ('if (eventType.toString() == "LOAD") { def f = new File(project.projectProperties.glossaryRoot, '
              '"corpus-glossary.utf8"); org.omegat.gui.glossary.GlossaryReaderTSV.read(f, false).each { '
              'println "TERM " + it.srcText + "\\t" + it.locText } }')
    terms = [line.split(" ", 1)[1] for line in _omegat(project, tmp_path, script).splitlines() if line.startswith("TERM ")]
    assert term in terms and len(terms) > 50


def test_a_fix_made_in_omegat_comes_back_to_its_segment_only(proj, tmp_path, capsys):
    root, cfg = proj
    before = _rows(cfg)
    fixes_before = len(_fixes(cfg))
    mine, other = _shared(before)  # the same English in the two documents
    doc = before[mine, "be"]["doc_id"]
    project = _project_copy(cfg, tmp_path)
    script = (TRANSLATOR.replace("@FILE@", f"{doc}.po").replace("@PATH@", mine).replace("@FIX@", FIX)
              .replace("@FORCE_DEFAULT@", "false"))
    out = _omegat(project, tmp_path, script)
    assert "BEFORE default=false" in out and "SAVED" in out  # pre-translated as an alternative of that segment
    save = (project / "omegat" / "project_save.tmx").read_text(encoding="utf-8")
    translatable = sum(1 for (sid, t), r in before.items() if t == "be" and r["status"] != "skipped")
    assert FIX in save and save.count(f'changeid="{PRETRANSLATED_BY}"') == translatable - 1  # OmegaT stamped the edit
    _omegat(project, tmp_path)  # OmegaT loads the saved memory and writes the translated documents
    got = _targets(project)
    assert got[f"{doc}.po", mine] == FIX
    assert got[f"{before[other, 'be']['doc_id']}.po", other] == before[other, "be"]["mt"]  # no propagation
    assert sum(1 for v in got.values() if v == FIX) == 1
    # back into the workflow: first a dry run through the command line, then the import
    capsys.readouterr()
    main(["review", "import", str(project), "-r", "alice", "--dry-run", "--config", str(root / "config.toml")])
    assert "would approve 1 fix(es) (be: 1)" in capsys.readouterr().out
    result = import_files(cfg, [project], "alice")
    assert [(f.seg_id, f.target, f.text, f.reviewer) for f in result.fixes] == [(mine, "be", FIX, "alice")]
    assert len(_fixes(cfg)) == fixes_before + 1
    pipeline.run(cfg)
    after = _rows(cfg)
    assert after[mine, "be"]["approved"] == FIX and after[mine, "be"]["reviewer"] == "alice"
    fields = ("approved", "reviewer", "mt", "status")
    changed = {k for k in before if [before[k][f] for f in fields] != [after[k][f] for f in fields]}
    assert changed == {(mine, "be")}  # nothing else: not the same English elsewhere, not Russian
    # the next export carries the fix as the segment's pre-translation
    po = polib.pofile(str(cfg.resolve(cfg.out) / "omegat" / "be" / "source" / f"{doc}.po"))
    assert "approved by alice" in next(e for e in po if e.msgctxt == mine).comment


def test_use_as_default_in_omegat_reaches_only_the_segment_that_shows_it(proj, tmp_path):
    root, cfg = proj
    before = _rows(cfg)
    mine, other = _shared(before)[::-1]
    doc = before[mine, "be"]["doc_id"]
    project = _project_copy(cfg, tmp_path)
    text = FIX.replace("мірна", "спакойна")
    script = (TRANSLATOR.replace("@FILE@", f"{doc}.po").replace("@PATH@", mine).replace("@FIX@", text)
              .replace("@FORCE_DEFAULT@", "true"))
    _omegat(project, tmp_path, script)
    _omegat(project, tmp_path)
    got = _targets(project)
    assert got[f"{doc}.po", mine] == text  # OmegaT shows the default translation there ...
    assert got[f"{before[other, 'be']['doc_id']}.po", other] == (before[other, "be"]["approved"]
                                                                 or before[other, "be"]["mt"])  # ... not elsewhere
    result = import_files(cfg, [project], "bob", dry_run=True)
    assert [(f.seg_id, f.target, f.text, f.reviewer) for f in result.fixes] == [(mine, "be", text, "bob")]
    # inside its project, project_save.tmx is read the same; alone, nothing says which segments show it
    inside = import_files(cfg, [project / "omegat" / "project_save.tmx"], "bob", dry_run=True)
    assert [(f.seg_id, f.text) for f in inside.fixes] == [(mine, text)]
    alone = tmp_path / "mail" / "project_save.tmx"
    alone.parent.mkdir()
    shutil.copy(project / "omegat" / "project_save.tmx", alone)
    with pytest.raises(ImportRejected, match="default translation"):
        import_files(cfg, [alone], "bob", dry_run=True)
