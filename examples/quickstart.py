"""Build a small expression, backpropagate, and print every gradient."""

from autograd import Value, topological_order

a = Value(2.0, label="a")
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
f = Value(-2.0, label="f")
L = d * f
L.label = "L"
L.backward()

for node in topological_order(L):
    print(f"{node.label:>2}  data={node.data:7.3f}  dL/d{node.label}={node.grad:7.3f}")
