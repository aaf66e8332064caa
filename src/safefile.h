/*
 * safefile.h - opening files and directories in places another user may
 * write (a home directory when run as root, /var/mail).
 *
 * Nothing here follows a symbolic link in the last component of a name
 * it is given relative to a directory descriptor, and what was opened
 * is checked with fstat, never the name before opening.  The rule for
 * ownership: what is opened must belong to the invoking user or, when
 * root works inside a directory that belongs to another user, to that
 * directory's owner; what popfetch creates there as root is given to
 * the directory's owner (procmail's convention), so the user can read
 * the mail.  A mailbox named after a user in a directory root owns
 * (/var/mail/alice) is that user's: root may use it when that user owns
 * it, and one root creates there is given to that user (and the
 * directory's group).
 *
 * Every function returns 0 (or a descriptor) or -1 with err; shown is
 * the name used in messages.  Error classes follow safefile_class.
 */
#ifndef SAFEFILE_H
#define SAFEFILE_H

#include <sys/stat.h>

#include "util.h"

/* The class of a local failure with errno e: ERR_IO (74) for a full or
 * failing disk (ENOSPC, EDQUOT, EIO, EROFS), else ERR_CANTCREAT (73:
 * permissions, a missing parent, a planted link). */
enum err_class	safefile_class(int e);

/* Checks an opened descriptor: a directory if dir, else a regular file
 * with one link, owned as the rule above says, where parent is what
 * fstat said of the directory holding it and name its name there if it
 * is a mailbox (NULL otherwise).  ERR_CANTCREAT. */
int	safefile_check(int fd, const struct stat *parent, const char *name,
	    int dir, const char *shown, struct error *);

/* Opens the directory name in at (AT_FDCWD: name may be a path whose
 * earlier components are followed; the last never is) and checks it
 * against parent (NULL: only that it is a directory owned by the user
 * or root).  Returns the descriptor. */
int	safefile_opendir(int at, const char *name, const struct stat *parent,
	    const char *shown, struct error *);

/* Makes the directory name in at (mode 0700), gives it to parent's
 * owner when root works in another user's directory, and fsyncs at so
 * that its entry survives a power loss.  EEXIST is not an error. */
int	safefile_mkdir(int at, const struct stat *parent, const char *name,
	    const char *shown, struct error *);

/* Creates the missing directories leading to path (not path itself),
 * each 0700 and fsync'd in its parent, as safefile_mkdir does. */
int	safefile_mkparents(const char *path, struct error *);

/* Gives fd, just created in a directory described by parent, to that
 * directory's owner if root created it there for another user, or, for
 * a mailbox named name in a directory root owns, to the user it is
 * named after (name NULL: not a mailbox). */
int	safefile_chown(int fd, const struct stat *parent, const char *name,
	    const char *shown, struct error *);

#endif
