//! Crate-internal macros.

/// Declares a closed API enum with the AWS string values: `as_str()`, a const
/// `values()` slice, `FromStr` (an unknown string is a `ValidationException`
/// naming the field and the allowed values), `Display` and serde as the string.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($field:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $s:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the API model's order.
            pub const fn values() -> &'static [$name] {
                &[$($name::$variant,)+]
            }

            /// The API's string for this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err($crate::error::Error::invalid(
                        $field,
                        $crate::error::Shown::Value(s.to_owned()),
                        $crate::error::Constraint::Enum(
                            [$($s),+].iter().map(|v| (*v).to_owned()).collect(),
                        ),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse::<$name>()
                    .map_err(|e| serde::de::Error::custom(e.message()))
            }
        }
    };
}
pub(crate) use wire_enum;
