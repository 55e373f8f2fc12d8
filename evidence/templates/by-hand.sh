openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \
    -in SHA256SUMS -sigfile SHA256SUMS.sig &&     # the list of hashes is the key's
sha256sum -c --strict --quiet SHA256SUMS &&       # every file is as listed, manifest.json too
find . -mindepth 1 ! -type d -printf '%P\n' | grep -Fvx -e SHA256SUMS -e SHA256SUMS.sig |
    sort | diff - <(cut -c67- SHA256SUMS | sort) &&  # nothing added: no file or link, of any name
openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin \
    -in manifest.json -sigfile manifest.sig &&    # the manifest is the key's
{ ! grep -q '^  "timestamp_authority": "' manifest.json ||
    [ -e manifest.tsr ]; } &&                     # an authority it names gave its token
{ ! grep -q '^    "authority_time": "' manifest.json ||
    [ -e report/captured.tsr ]; } &&              # and its token on the captures, if it says so
made=$(date -d "$(sed -n 's/^  "created_at": "\(.*\)",$/\1/p' manifest.json)" +%s) &&
for t in manifest.tsr report/captured.tsr; do [ ! -e "$t" ] || [ $(( $(date -d "$(openssl ts \
    -reply -in "$t" -text | sed -n 's/^Time stamp: //p')" +%s) - made )) -le 600 ] ||
    echo "$t: dated over 10 minutes after the package says it was made"; done |
    { ! grep .; } &&                              # the times it claims are when it was made
{ [ ! -e manifest.tsr ] || openssl ts -verify -in manifest.tsr \
    -data manifest.json -CAfile ../TSA-CA.pem; } &&  # it existed at the authority's time
{ [ ! -e report/captured.tsr ] || { sha256sum -c --strict --quiet report/captured.sums &&
    openssl ts -verify -in report/captured.tsr -data report/captured.sums \
    -CAfile ../TSA-CA.pem; }; } &&                # so did its captures, before the report
echo "package OK, signed by key $(openssl pkey -pubin -in signer.pub.pem \
    -outform DER | tail -c 32 | sha256sum | cut -c1-64)"
