//! Posture findings, such as a hardcoded secret found by `ward scan`.
