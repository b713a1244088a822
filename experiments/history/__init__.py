"""Arms races in the historical record: the measures of ``sd_env.experiments.lab.series`` on Correlates of War data.

Modules, each with one job (each imports only those above it, and ``lab.series``):

* ``data``: loaders of the standard COW formats (NMC, rivalries, race lists, war dyad-years) and the NMC
  yearly series read from them (a state's series, the system's median growth).
* ``coding``: the mutual-buildup coding on every rivalry dyad and the interdependence filters that need the
  record (``reaction``, ``system``, ``war``, ``response``).
* ``scoring``: detected buildups against a list of races (recall, precision), war onsets after buildups, and
  the split and criterion by which filters are compared.
* ``blocs``: Richardson's fits of two blocs of states named as ``220+365:255+300@1909-1913``.
* ``report``: ``run_history`` (behind ``sd-env history``) and the text it prints.
* ``doc``: regenerates the measured results in ``docs/history.md``.
"""
