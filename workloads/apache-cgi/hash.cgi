#!/bin/sh
# The CGI script every request runs: the SHA-1 of a small file (data.bin under the instance's
# DocumentRoot, WL_FILE_SIZE bytes). Each request costs a fork and exec of /bin/sh and of
# sha1sum besides the hashing: process creation is most of the work.
printf 'Content-Type: text/plain\r\n\r\n'
sha1sum "$DOCUMENT_ROOT/data.bin"
