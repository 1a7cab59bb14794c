# Generates heap_python.json: the raw heap arrays of Python heapq (as ComfyUI
# uses it) after each push/pop/delete. Run: python3 heap_python.py > heap_python.json
import heapq, random, json
random.seed(7)
h=[]
ops=[]
n=0
def snap(): return [x[1] for x in h]
for step in range(60):
    r=random.random()
    if r<0.6 or not h:
        num = random.choice([random.randint(-5,20), float(random.randint(-5,20)), random.randint(0,20)+0.5])
        pid = "p%02d" % n; n+=1
        heapq.heappush(h,(num,pid)); ops.append(["push", num, pid, snap()])
    elif r<0.85:
        x=heapq.heappop(h); ops.append(["pop", x[1], snap()])
    else:
        x=random.randrange(len(h)); pid=h[x][1]
        if len(h)==1: h.clear()
        else:
            h.pop(x); heapq.heapify(h)
        ops.append(["del", pid, snap()])
print(json.dumps(ops))
