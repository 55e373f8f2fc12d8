openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \
    -in SHA256SUMS -sigfile SHA256SUMS.sig &&     # the list of hashes is the key's
sha256sum -c --strict --quiet SHA256SUMS &&       # every file is as listed, manifest.json too
find . -mindepth 1 ! -type d -printf '%P\n' | grep -Fvx -e SHA256SUMS -e SHA256SUMS.sig |
    sort | diff - <(cut -c67- SHA256SUMS | sort) &&  # nothing added: no file or link, of any name
openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \
    -in manifest.json -sigfile manifest.sig &&    # the manifest is the key's
{ sed -n '/^  "timestamp_authorities": \[$/,/^  \]/p' manifest.json | grep '^    "' | cat -n |
    while read -r i _; do t=manifest-$i.tsr; [ "$i" = 1 ] && t=manifest.tsr; echo "$t"; done
  grep -o '"token": "report/[^"]*"' manifest.json | cut -d'"' -f4; } |
    while read -r t; do [ -e "$t" ] || echo "$t: missing"; done | { ! grep .; } &&  # every token it names
for t in manifest*.tsr later/*.tsr; do [ ! -e "$t" ] || openssl ts -verify -in "$t" -data \
    manifest.json -CAfile ../TSA-CA.pem >&2 || echo "$t: does not verify"; done | { ! grep .; } &&
for t in report/*.tsr; do [ ! -e "$t" ] || { s=${t%%-[0-9]*.tsr}; s=${s%.tsr}.sums
    sha256sum -c --strict --quiet "$s" && openssl ts -verify -in "$t" -data "$s" \
    -CAfile ../TSA-CA.pem; } >&2 || echo "$t: does not verify"; done | { ! grep .; } &&
made=$(date -d "$(sed -n 's/^  "created_at": "\(.*\)",$/\1/p' manifest.json)" +%s) &&
first=$([ ! -e report/first-capture.sums ] || date -d "$(grep -A4 "\"path\": \"$(cut -c67- \
    report/first-capture.sums)\"" manifest.json | sed -n 's/^ *"captured_at": "\(.*\)",$/\1/p')" +%s) &&
for t in manifest*.tsr report/*.tsr; do [ ! -e "$t" ] || { at=$made; case $t in report/first*) at=$first;;
    esac; [ $(( $(date -d "$(openssl ts -reply -in "$t" -text | sed -n 's/^Time stamp: //p')" +%s) \
    - at )) -le 600 ]; } || echo "$t: dated over 10 minutes after what it covers"; done |
    { ! grep .; } &&                              # the times it claims are when it was made
echo "package OK, signed by key $(openssl pkey -pubin -in signer.pub.pem \
    -outform DER | tail -c 32 | sha256sum | cut -c1-64)"
