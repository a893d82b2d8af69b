//! The stack's tags (`Names::tags`) in each SDK's own `Tag` type, written once.

use super::AwsError;
use crate::names::Names;

/// One SDK's tag type, built from a key and a value.
pub trait SdkTag: Sized {
    fn make(key: String, value: String) -> Result<Self, String>;
}

macro_rules! infallible {
    ($($tag:ty),*) => {$(
        impl SdkTag for $tag {
            fn make(key: String, value: String) -> Result<Self, String> {
                Ok(<$tag>::builder().key(key).value(value).build())
            }
        }
    )*};
}

macro_rules! fallible {
    ($($tag:ty),*) => {$(
        impl SdkTag for $tag {
            fn make(key: String, value: String) -> Result<Self, String> {
                <$tag>::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .map_err(|e| e.to_string())
            }
        }
    )*};
}

infallible!(
    aws_sdk_ec2::types::Tag,
    aws_sdk_ecs::types::Tag,
    aws_sdk_elasticloadbalancingv2::types::Tag,
    aws_sdk_rds::types::Tag
);
fallible!(
    aws_sdk_ecr::types::Tag,
    aws_sdk_iam::types::Tag,
    aws_sdk_ssm::types::Tag,
    aws_sdk_servicediscovery::types::Tag
);

/// The tags of the stack's resource `key`, named `name`, as `T`s.
pub fn tags<T: SdkTag>(names: &Names, key: &str, name: &str) -> Result<Vec<T>, AwsError> {
    names
        .tags(key, name)
        .into_iter()
        .map(|(k, v)| T::make(k, v))
        .collect::<Result<_, _>>()
        .map_err(|e| AwsError::new("tag", name, e))
}

/// The tags an EC2 create puts on what it makes, in the same call (so a resource is never
/// untagged, and the policy's tag conditions hold from its first second).
pub fn ec2_spec(
    names: &Names,
    key: &str,
    name: &str,
    kind: aws_sdk_ec2::types::ResourceType,
) -> Result<aws_sdk_ec2::types::TagSpecification, AwsError> {
    Ok(aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags(names, key, name)?))
        .build())
}
