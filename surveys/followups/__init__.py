"""Follow-up of low scores (terugbellen bij een laag cijfer): a queue of responses below the
organisation's threshold, with the resident's contact details kept apart and erased when done."""
