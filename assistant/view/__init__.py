"""See a source in the original: the file it lives in (taken out of a mail or an archive when it must be),
the program that shows it at the cited place, and a picture of the cited page with the passage boxed."""
