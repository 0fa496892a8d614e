// A Bell pair: H on q[0], then CNOT q[0] -> q[1]. Ideal probabilities: 0.5 for |00> and |11>.
// Run it:  qvec run examples/bell.qasm --json        (qubit 0 is the least significant bit)
OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
