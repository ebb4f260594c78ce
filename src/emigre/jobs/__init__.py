"""Jobs: the work that combines the floors below into one result (the main job ``emigre run``).

A job may import any floor; no floor imports a job. The commands (:mod:`emigre.cli`) call jobs.
"""

from emigre.jobs.main_job import finish_main_job, posterior_draws, run_main_job

__all__ = ["finish_main_job", "posterior_draws", "run_main_job"]
