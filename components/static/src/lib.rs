//! Spin HTTP component: the static site.
