#!/bin/sh
# Turn a text file into a C string constant: embed.sh NAME FILE > out.c
name=$1; file=$2
printf 'const char %s[] =\n' "$name"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$file"
printf ';\n'
