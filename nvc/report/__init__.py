"""Pre-operative report: figures, layout, HTML and PDF, built from a case's saved outputs.

Pure builders: they take the loaded outputs (``nvc.report.case.ReportCase``) and
return figures (PNG bytes), text and document bytes; ``nvc.io`` reads and writes
the files and ``nvc_pipelines.report`` composes them.
"""
