openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \
    -in SHA256SUMS -sigfile SHA256SUMS.sig &&     # the list of hashes is the key's
sha256sum -c --strict --quiet SHA256SUMS &&       # every file is as listed, manifest.json too
find . -mindepth 1 ! -type d -printf '%P\n' | grep -Fvx -e SHA256SUMS -e SHA256SUMS.sig |
    sort | diff - <(cut -c67- SHA256SUMS | sort) &&  # nothing added: no file or link, of any name
openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \
    -in manifest.json -sigfile manifest.sig &&    # the manifest is the key's
{ sed -n '/^  "timestamp_authorities": \[$/,/^  \]/p' manifest.json | grep '^    "' | cat -n |
    while read -r i _; do t=manifest-$i.tsr; [ "$i" = 1 ] && t=manifest.tsr; echo "$t"; done
  grep -o '"token": "report/captured[^"]*"' manifest.json | cut -d'"' -f4; } |
    while read -r t; do [ -e "$t" ] || echo "$t: missing"; done | { ! grep .; } &&  # every token it names
for t in manifest*.tsr; do [ ! -e "$t" ] || openssl ts -verify -in "$t" -data manifest.json \
    -CAfile ../TSA-CA.pem >&2 || echo "$t: does not verify"; done | { ! grep .; } &&  # sealed by then
for t in report/captured*.tsr; do [ ! -e "$t" ] || { sha256sum -c --strict --quiet report/captured.sums &&
    openssl ts -verify -in "$t" -data report/captured.sums -CAfile ../TSA-CA.pem; } >&2 ||
    echo "$t: does not verify"; done | { ! grep .; } &&  # and the captures existed, before the report
made=$(date -d "$(sed -n 's/^  "created_at": "\(.*\)",$/\1/p' manifest.json)" +%s) &&
for t in manifest*.tsr report/captured*.tsr; do [ ! -e "$t" ] || [ $(( $(date -d "$(openssl ts \
    -reply -in "$t" -text | sed -n 's/^Time stamp: //p')" +%s) - made )) -le 600 ] ||
    echo "$t: dated over 10 minutes after the package says it was made"; done |
    { ! grep .; } &&                              # the times it claims are when it was made
echo "package OK, signed by key $(openssl pkey -pubin -in signer.pub.pem \
    -outform DER | tail -c 32 | sha256sum | cut -c1-64)"
