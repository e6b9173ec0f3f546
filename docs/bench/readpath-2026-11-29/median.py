import re,statistics,sys,collections
d=collections.defaultdict(list); al=collections.defaultdict(list)
cur=None
for line in open(sys.argv[1]):
    m=re.match(r'=== round (\d+) (\S+) (\S+)',line)
    if m: cur=(m.group(2),m.group(3)); continue
    m=re.match(r'(Benchmark\S+?)-2\s+\d+\s+(\d+) ns/op\s+(\d+) B/op\s+(\d+) allocs/op',line)
    if m and cur:
        d[(m.group(1),cur[1],cur[0])].append(int(m.group(2))/1e6)
        al[(m.group(1),cur[1],cur[0])].append(int(m.group(4)))
keys=sorted(set((b,db) for b,db,w in d))
print("| benchmark | db | before ms (median, runs) | after ms (median, runs) | after/before | allocs before → after |")
print("|---|---|---:|---:|---:|---|")
for b,db in keys:
    bf=d.get((b,db,'before'),[]); af=d.get((b,db,sys.argv[2] if len(sys.argv)>2 else 'after2'),[])
    if not bf or not af: continue
    mb,ma=statistics.median(bf),statistics.median(af)
    print(f"| {b.replace('Benchmark','')} | {db} | {mb:.2f} ({', '.join(f'{x:.1f}' for x in bf)}) | {ma:.2f} ({', '.join(f'{x:.1f}' for x in af)}) | {ma/mb:.2f} | {statistics.median(al[(b,db,'before')]):.0f} → {statistics.median(al[(b,db,sys.argv[2] if len(sys.argv)>2 else 'after2')]):.0f} |")
