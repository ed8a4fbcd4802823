"""CI renderings of the result record: GitHub Actions and GitLab CI.

``--output github`` writes step outputs to $GITHUB_OUTPUT (heredoc delimiters, so
multi-line values such as the JSON record are safe), a job summary to
$GITHUB_STEP_SUMMARY, and returns what to print on stdout: ``::add-mask::`` lines
first, then the log inside ``::group::``, then ``::error::`` annotations.

``--output gitlab`` writes a dotenv report ($PROMOTER_DOTENV, default
``promoter.env``) and the JSON record ($PROMOTER_RESULT_FILE, default
``promoter-result.json``), and returns a log section.

The dotenv keys are never the name of a ``PROMOTER_*`` option variable: GitLab
gives dotenv variables precedence over a job's own ``variables:``, so a key such
as PROMOTER_BRANCH would silently become the ``--branch`` of every later
promoter job in the pipeline. Hence PROMOTER_MR_BRANCH.

Modules: ``record`` (what both read from the record), ``github``, ``gitlab``;
their public names are re-exported here.
"""

from __future__ import annotations

from promoter.report_ci.github import (
    SECRET_VARIABLES,
    escape_data,
    github_annotation,
    github_error,
    github_mask,
    github_output_text,
    github_summary,
    mask_now,
    write_github,
)
from promoter.report_ci.gitlab import (
    DOTENV_KEYS,
    dotenv_text,
    dotenv_values,
    gitlab_error,
    write_gitlab,
)
from promoter.report_ci.record import error_lines, log_lines, outputs, subject

__all__ = [
    "DOTENV_KEYS",
    "SECRET_VARIABLES",
    "dotenv_text",
    "dotenv_values",
    "error_lines",
    "escape_data",
    "github_annotation",
    "github_error",
    "github_mask",
    "github_output_text",
    "github_summary",
    "gitlab_error",
    "log_lines",
    "mask_now",
    "outputs",
    "subject",
    "write_github",
    "write_gitlab",
]
