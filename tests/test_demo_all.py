"""demos/all.py plans the runs from what data is present, and its quick mode runs every demo."""
from demos import all as all_demos


def test_plan_includes_mnist_runs_only_where_the_files_are(tmp_path):
    without = [name for _, name, _ in all_demos.runs(tmp_path)]
    assert without[:2] == ["ioffe_fig1_digits_lr0.5", "ioffe_fig1_digits_lr0.01"]
    assert not any("mnist" in name for name in without)
    assert set(all_demos.DEMOS) <= set(without)
    with_test_files = [name for _, name, _ in all_demos.runs(all_demos.SHARED_MNIST)]
    assert "ioffe_fig1_mnist-t10k_lr0.01" in with_test_files
    assert "ioffe_fig1_mnist_lr0.5" not in with_test_files        # the training files are not there


def test_main_runs_the_plan_into_one_folder_per_run(tmp_path, monkeypatch):
    # every demo's quick mode has its own smoke test; here one fast demo stands for the plan
    monkeypatch.setattr(all_demos, "runs", lambda root: [("lr_stress_test", "stress", ["--seed", "3"])])
    summary = all_demos.main(["--quick", "--out", str(tmp_path)])
    assert [name for name, _ in summary] == ["stress"]
    assert (tmp_path / "stress" / "lr_stress_test.png").exists()
    assert '"seed": 3' in (tmp_path / "stress" / "lr_stress_test.json").read_text()
