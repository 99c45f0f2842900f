"""Published results the lecture cites, re-measured by gradviz: ``gradviz reproduce NAME``.

    papers.py   the four reproductions (table7, bengio1994, le2015, pascanu2013): what each
                paper found, the runs that measure it here, and how a run is scored
    scoring.py  one run (an arm of a reproduction, one seed), trained by the ordinary engine
    results.py  a reproduction's file: every finished run, saved after each (resume), and
                the paper's number beside gradviz's (median and range over seeds)
    plot.py     its figure: every seed, the median and the paper's number, per arm
    command.py  the ``gradviz reproduce`` subcommand (imports nothing heavy until it runs)

Nothing is imported here, so that the command line can register the subcommand without
loading torch.
"""
